/**
 * Runs once before the suite: builds the dashboard into web/dist when it is missing or older than web/src (the
 * same check as `npm start`), so the browser tests, which run in parallel files, never race on the build nor test
 * a stale one.
 */
export default async function setup(): Promise<void> {
  await import('../web/ensure-built.mjs');
}
