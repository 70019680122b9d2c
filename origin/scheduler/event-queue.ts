// A one-consumer async queue: the scheduler pushes a sequence's events as steps produce them, the HTTP
// response pulls them at the pace its client reads.

export class EventQueue<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T) => void) | null = null;

  push(item: T): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(item);
    } else {
      this.items.push(item);
    }
  }

  /** The next item if one is queued, without waiting (the response writes what is ready in one go). */
  poll(): T | undefined {
    return this.items.shift();
  }

  next(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}
