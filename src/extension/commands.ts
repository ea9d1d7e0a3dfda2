// The command table: one handler per command of src/protocol/commands.ts, registered in one loop.
// Each feature returns the handlers of its own commands (a Pick of CommandHandlers, built from its
// state); activate() spreads them into one object of type CommandHandlers, so a command without a
// handler, or a handler under a key that is no command, does not compile.
import * as vscode from 'vscode';
import { COMMAND_KEYS, COMMANDS, type CommandKey } from '../protocol/commands';

/** VS Code passes whatever the caller passed (a URI, a tree item, nothing); each handler narrows. */
export type CommandHandler = (...args: never[]) => unknown;
export type CommandHandlers = Record<CommandKey, CommandHandler>;

export function registerCommands(context: vscode.ExtensionContext, handlers: CommandHandlers): void {
  for (const key of COMMAND_KEYS) context.subscriptions.push(vscode.commands.registerCommand(COMMANDS[key], handlers[key]));
}
