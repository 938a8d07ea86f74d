// Runs before every test file (see .mocharc.json): each run gets its own
// state directory and repository, and two PoCL devices, unless the caller
// chose otherwise. Child processes inherit these.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "inaccel-test-"));
process.env.POCL_DEVICES ??= "pthread pthread";
// One PoCL worker thread for both devices: PoCL 3.1 (Debian 12's) can abort
// when kernels of one program run at once (docs/backends.md).
process.env.POCL_MAX_PTHREAD_COUNT ??= "1";
process.env.INACCEL_STATE_DIR ??= path.join(root, "state");
process.env.INACCEL_REPOSITORY ??= path.join(root, "repository");
process.env.INACCEL_CONFIG ??= path.join(root, "config.json");
process.env.INACCEL_TEST_ROOT = root;

process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));
