import { BUS_ROLES, BusRole, BusUser, natsServerConfig } from '@streamstack/transport';
import { Command, CommandRunner, Option } from 'nest-commander';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `streamstack nats-config --out DIR [--user NAME:ROLE,ROLE ...]`: a nats-server configuration
 * with one user per role (or per role set), each allowed only its role's subjects, and for each
 * user an env file with the STREAMSTACK_NATS_* lines its processes need.
 */
@Command({ name: 'nats-config', description: 'Write a nats-server config with one user per role (and their env files) into --out' })
export class NatsConfigCommand extends CommandRunner {
  async run(_args: string[], flags: { out?: string; user?: string[] }): Promise<void> {
    if (!flags.out) return fail('--out DIR is required: where nats-server.conf and the env files go');
    let users: BusUser[];
    try {
      users = (flags.user?.length ? flags.user : BUS_ROLES.map((r) => `${r}:${r}`)).map(parseUser);
    } catch (e) {
      return fail((e as Error).message);
    }
    const twice = users.map((u) => u.user).find((name, i, names) => names.indexOf(name) !== i);
    if (twice) return fail(`--user ${twice} is given twice: one user per name (a user may hold several roles: ${twice}:ROLE,ROLE)`);
    try {
      mkdirSync(flags.out, { recursive: true, mode: 0o700 });
    } catch (e) {
      return fail(`--out ${flags.out}: cannot make that directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const conf = join(flags.out, 'nats-server.conf');
    writeFileSync(conf, natsServerConfig(users), { mode: 0o600 });
    const lines = [`wrote ${conf}: start the server with  nats-server -c ${conf}`];
    for (const u of users) {
      const file = join(flags.out, `${u.user}.env`);
      writeFileSync(file, `STREAMSTACK_NATS_USER=${u.user}\nSTREAMSTACK_NATS_PASSWORD=${u.password}\n`, { mode: 0o600 });
      lines.push(`wrote ${file}: the credentials of processes running ${u.roles.join(', ')}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  @Option({ flags: '--out <dir>', description: 'directory to write nats-server.conf and <user>.env into' })
  parseOut(value: string): string {
    return value;
  }

  @Option({ flags: '--user <name:roles>', description: 'a user for a process running these roles (repeat; default: one per role)' })
  parseUser(value: string, previous: string[] = []): string[] {
    return [...previous, value];
  }
}

function parseUser(spec: string): BusUser {
  const m = /^([A-Za-z0-9_-]{1,64}):([a-z,]+)$/.exec(spec);
  const roles = m ? m[2].split(',') : [];
  const unknown = roles.filter((r) => !(BUS_ROLES as readonly string[]).includes(r));
  if (!m || roles.length === 0 || unknown.length) throw new Error(`--user ${spec}: use NAME:ROLE[,ROLE…], NAME of 1 to 64 letters, digits, _ or -, roles among ${BUS_ROLES.join(', ')}`);
  return { user: m[1], password: randomBytes(24).toString('base64url'), roles: roles as BusRole[] };
}

function fail(message: string): void {
  process.stderr.write(`streamstack nats-config: ${message}\n`);
  process.exitCode = 2;
}
