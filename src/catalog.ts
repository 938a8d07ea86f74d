import { Repository } from "./repository";

/**
 * The default bitstream repository: `INACCEL_REPOSITORY` (else
 * `~/.inaccel/repository`), the system repositories and the built-in
 * accelerators. `submit` resolves accelerators here.
 */
export const repository = new Repository();
