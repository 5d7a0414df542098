/** How a CLI command prints the runtime's answer to an action: its message, or the whole answer as JSON. */

/** An action's answer from the runtime (`ok: false` when it was refused in a 200 answer). */
export interface Outcome {
  ok: boolean;
  message: string;
}

/** Prints the outcome (one line, or its JSON with `json`); a refused one makes the command exit 1. */
export function printOutcome(r: Outcome, json: boolean | undefined): void {
  process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${r.message}\n`);
  if (!r.ok) process.exitCode = 1;
}
