// ensure-built.mjs is a script: importing it builds web/dist when needed; it exports nothing.
export {};
