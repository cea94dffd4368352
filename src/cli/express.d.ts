// The subset of express 5 the dashboard uses (express ships no types; @types/express would be one
// more dependency for three lines).
declare module 'express' {
  import type { Server } from 'node:http';
  interface App {
    use(path: string, handler: unknown): App;
    listen(port: number, host: string, callback: () => void): Server;
  }
  function express(): App;
  export default express;
}
