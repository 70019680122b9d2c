// Makes a privately unpacked lavapipe (tools/install-lavapipe.sh) visible to Dawn in this process, with no
// environment set up beforehand: the unpacked Vulkan loader and the newer libdrm it needs are dlopen'ed by
// absolute path first (RTLD_NODELETE keeps them loaded after Node rejects them as addons), so Dawn's later
// dlopen("libvulkan.so.1") and lavapipe's own libdrm.so.2 dependency resolve to them by SONAME; the ICD is
// added with VK_ADD_DRIVER_FILES, which keeps any hardware driver of the machine enumerable too.
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** glibc's RTLD_NODELETE; Node's os.constants.dlopen does not list it. */
const RTLD_NODELETE = 0x1000;

/** Where tools/install-lavapipe.sh unpacks (LAVAPIPE_DIR overrides). */
export function lavapipeDir(): string {
  return process.env.LAVAPIPE_DIR ?? fileURLToPath(new URL('../node_modules/.cache/lavapipe', import.meta.url));
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
    notes.push(`no private lavapipe at ${dir} (run tools/install-lavapipe.sh on a machine without a GPU)`);
    return (done = { lavapipe: null, notes });
  }
  const loaded = readFileSync('/proc/self/maps', 'utf8');
  for (const lib of ['libdrm.so.2', 'libvulkan.so.1']) {
    const path = join(dir, 'lib', lib);
    if (loaded.includes(path)) continue;
    try {
      process.dlopen({ exports: {} }, path, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE);
    } catch {
      // Expected: "Module did not self-register". The library stays loaded; checked below.
    }
  }
  const maps = readFileSync('/proc/self/maps', 'utf8');
  if (!maps.includes(realpathSync(join(dir, 'root')))) notes.push(`could not preload the Vulkan loader from ${dir}/lib`);
  const userIcds = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  if (userIcds) {
    notes.push(`VK_ICD_FILENAMES/VK_DRIVER_FILES set by the caller (${userIcds}): left as is`);
  } else {
    const add = process.env.VK_ADD_DRIVER_FILES;
    if (!add?.split(':').includes(icd)) process.env.VK_ADD_DRIVER_FILES = add ? `${add}:${icd}` : icd;
    notes.push(`lavapipe ICD added from ${icd}`);
  }
  return (done = { lavapipe: dir, notes });
}
