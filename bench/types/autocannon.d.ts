// autocannon ships no types; bench/load-http.ts uses only its programmatic entry point.
declare module 'autocannon' {
  const autocannon: (opts: Record<string, unknown>, done: (err: unknown, result: any) => void) => any;
  export default autocannon;
}
