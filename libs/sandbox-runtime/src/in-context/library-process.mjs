// Injected into every library bundle: free references to `process` resolve here, not to the
// sandbox's own `process` (which may not exist when the library is evaluated).
export const process = globalThis[Symbol.for('codestep.runtime')].require('codestep:process');
