/** The node flags a command's process runs with (see node-flags.js). */
export declare function nodeFlagsFor(command: string | undefined): string[];
/** The flags of `nodeFlagsFor(command)` that `execArgv` does not already have. */
export declare function missingNodeFlags(command: string | undefined, execArgv: readonly string[]): string[];
