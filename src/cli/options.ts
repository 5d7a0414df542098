/** Commander argument parser for a repeatable flag (`--param a=1 --param b=2`): collects every value in order. */
export function collectRepeated(value: string, previous: string[]): string[] {
  return [...previous, value];
}
