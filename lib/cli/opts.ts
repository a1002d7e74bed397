// A subcommand's parsed options as the command functions read them: keyed by the long flag's name
// (`server-id`, `json`), strings exactly as typed (each command validates its numbers and names,
// with messages of its own), switches as booleans. Built by the commander program (program.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command reads its own flags
export type Opts = { readonly [flag: string]: any };
