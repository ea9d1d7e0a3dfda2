// The CLI's view of its terminal, passed to every command so commands stay testable.
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  isTty: boolean;
}

export interface CliCommand {
  name: string;
  summary: string;
  run(argv: string[], io: CliIo): Promise<number>;
}
