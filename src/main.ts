import 'reflect-metadata';
import { CommandFactory } from 'nest-commander';
import { CliModule } from './cli/cli.module';

/** `streamstack <verb>`: `serve` runs the stack; the other verbs talk to a running one. */
async function main(): Promise<void> {
  await CommandFactory.run(CliModule, {
    logger: ['error'],
    errorHandler: (err) => {
      // commander reports --help/--version and usage errors through here.
      const code = (err as { exitCode?: number }).exitCode ?? 1;
      if (code !== 0 && !/^\(outputHelp\)|^commander\.(help|version)/.test((err as { code?: string }).code ?? '')) {
        process.stderr.write(`${err.message}\n`);
      }
      process.exit(code);
    },
  });
}

void main();
