// Makes a privately unpacked lavapipe (tools/install-lavapipe.sh) visible to Dawn in this process, with no
// environment set up beforehand: the unpacked Vulkan loader and the newer libdrm it needs are dlopen'ed by
// absolute path first (RTLD_NODELETE keeps them loaded after Node rejects them as addons), so Dawn's later
// dlopen("libvulkan.so.1") and lavapipe's own libdrm.so.2 dependency resolve to them by SONAME; the ICD is
// added with VK_ADD_DRIVER_FILES, which keeps any hardware driver of the machine enumerable too.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** glibc's RTLD_NODELETE; Node's os.constants.dlopen does not list it. */
const RTLD_NODELETE = 0x1000;

/**
 * dlopens, by absolute path, the Vulkan loader and every library lavapipe needs that exists only (or only
 * new enough) in the private folder — on a bare Debian 12 that includes LLVM, xcb, wayland — so later
 * lookups by SONAME find them. `ldd` lists lavapipe's dependencies as the dynamic linker would resolve them
 * with the folder first; libraries that need others are retried until every one loads. Returns the
 * libraries that would not load.
 */
function preloadPrivateLibraries(dir: string): string[] {
  const lib = realpathSync(join(dir, 'lib'));
  let resolved = '';
  try {
    resolved = execFileSync('ldd', [join(lib, 'libvulkan_lvp.so')], {
      env: { ...process.env, LD_LIBRARY_PATH: lib },
      encoding: 'utf8',
    });
  } catch {
    // No ldd: fall back to the two libraries Debian 12 with Mesa's GL stack lacks.
  }
  const paths = [...resolved.matchAll(/=>\s+(\S+)\s+\(/g)]
    .map((m) => m[1])
    .filter((p) => p.startsWith(`${lib}/`));
  let pending = [...new Set([...paths, join(lib, 'libdrm.so.2'), join(lib, 'libvulkan.so.1')])];
  const flags = constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
  const isLoaded = (path: string) =>
    readFileSync('/proc/self/maps', 'utf8').includes(realpathSync(path));
  for (let round = 0; round < 8 && pending.length; round++) {
    for (const path of pending) {
      try {
        if (!isLoaded(path)) process.dlopen({ exports: {} }, path, flags);
      } catch {
        // Expected for every plain library: "Module did not self-register"; it stays loaded (NODELETE).
      }
    }
    pending = pending.filter((p) => !isLoaded(p));
  }
  return pending;
}

/** Where tools/install-lavapipe.sh unpacks (LAVAPIPE_DIR overrides). */
export function lavapipeDir(): string {
  return (
    process.env.LAVAPIPE_DIR ??
    fileURLToPath(new URL('../node_modules/.cache/lavapipe', import.meta.url))
  );
}

export interface DriverSetup {
  /** The lavapipe folder in use, or null when none is installed here. */
  lavapipe: string | null;
  /** What was done, for error messages and logs. */
  notes: string[];
}

let done: DriverSetup | undefined;

/** Idempotent; call before the first `create()` of the webgpu package. */
export function setUpDriverEnvironment(): DriverSetup {
  if (done) return done;
  const notes: string[] = [];
  if (!process.env.XDG_RUNTIME_DIR) {
    // Mesa prints errors without one.
    const dir = join(tmpdir(), `webgpu-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const dir = lavapipeDir();
  const icd = join(dir, 'lvp_icd.json');
  if (process.platform !== 'linux' || !existsSync(icd)) {
    notes.push(
      `no private lavapipe at ${dir} (run tools/install-lavapipe.sh on a machine without a GPU)`,
    );
    return (done = { lavapipe: null, notes });
  }
  const missing = preloadPrivateLibraries(dir);
  if (missing.length) notes.push(`could not preload ${missing.join(', ')} from ${dir}/lib`);
  const userIcds = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  if (userIcds) {
    notes.push(`VK_ICD_FILENAMES/VK_DRIVER_FILES set by the caller (${userIcds}): left as is`);
  } else {
    const add = process.env.VK_ADD_DRIVER_FILES;
    if (!add?.split(':').includes(icd))
      process.env.VK_ADD_DRIVER_FILES = add ? `${add}:${icd}` : icd;
    notes.push(`lavapipe ICD added from ${icd}`);
  }
  return (done = { lavapipe: dir, notes });
}
