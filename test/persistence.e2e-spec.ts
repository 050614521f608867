import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forUpdate, runMigrationsLocked, TransactionRunner } from "@streamstack/persistence";
import { roleMigrations } from "../src/app.module";
import { Role } from "../src/config/config.schema";
import { dataSourceOptions } from "../src/database.module";
import { cpus } from "node:os";
import { DataSource } from "typeorm";
import { Instance } from "../src/ams/instances/instance.entity";
import { AccountsService } from "../src/gateway/accounts/accounts.service";
import { NodeRecord } from "../src/ams/nodes/node.entity";
import { ADMIN_TOKEN, eventually, logCollector, startApp } from "./support/app";
import { client } from "./support/http";
import { testPatternManifest } from "./support/packages";
import { freshSchema } from "./support/postgres";

/** The same repositories, migrations and restarts on both databases. */
describe.each([
  ["SQLite", async () => ({ url: "", drop: async () => undefined })],
  ["PostgreSQL", freshSchema],
])("persistence on %s", (_name, makeDatabase) => {
  let dataDir: string;
  let database: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "streamstack-persist-"));
    database = await makeDatabase();
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const boot = async () => {
    const stack = await startApp({ STREAMSTACK_DATA_DIR: dataDir, STREAMSTACK_DATABASE_URL: database.url }, { keepData: true });
    // The node registers with AMS a moment after the start (in CI it lost that race once:
    // the launch found no node and answered 409).
    await eventually(async () => (await client(stack.url, ADMIN_TOKEN)("GET", "/ams/1.0/nodes")).body.metadata?.length === 1);
    return stack;
  };

  it("runs the migrations, stores state, and keeps it across a restart", async () => {
    let stack = await boot();
    let api = client(stack.url, ADMIN_TOKEN);
    const migrations = await stack.app
      .get(DataSource)
      .query("SELECT name FROM migrations");
    expect(migrations.map((m: { name: string }) => m.name)).toEqual(["GatewaySchema1764000000000", "AmsSchema1764000000001", "SessionSpectators1764200000000"]);

    const account = await api("POST", "/1.0/accounts", {
      body: { name: "keeper", role: "client" },
    });
    expect(
      (
        await api("POST", "/ams/1.0/applications", {
          body: testPatternManifest("kept"),
        })
      ).status,
    ).toBe(201);
    const launched = await api("POST", "/ams/1.0/instances", {
      body: { app: "kept" },
    });
    const op = await api("GET", `${launched.body.operation}/wait?timeout=60`);
    expect(op.body.metadata.status).toBe("success");
    const instanceId = op.body.metadata.resources.instances[0].split("/").pop();

    // Concurrent writes: SQLite serialises its transactions, PostgreSQL runs them in parallel.
    const creations = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api("POST", "/ams/1.0/applications", {
          body: testPatternManifest(`parallel-${i}`),
        }),
      ),
    );
    expect(creations.map((r) => r.status)).toEqual(Array(12).fill(201));
    await stack.close();

    stack = await boot();
    try {
      api = client(stack.url, ADMIN_TOKEN);
      expect(
        (
          await client(stack.url, account.body.metadata.token)(
            "GET",
            "/1.0/regions",
          )
        ).status,
      ).toBe(200);
      expect((await api("GET", "/ams/1.0/applications")).body.total_size).toBe(
        13,
      );
      expect((await api("GET", "/ams/1.0/nodes")).body.metadata).toHaveLength(
        1,
      );
      // The instance was running when the process stopped: the node comes back and runs it again.
      const back = await eventually(async () => {
        const r = await api("GET", `/ams/1.0/instances/${instanceId}`);
        return r.body.metadata?.status === "running" ? r.body.metadata : null;
      }, 30_000);
      expect(back.app).toBe("kept");
    } finally {
      await stack.close();
    }
  });

  it("serialises concurrent changes to one row (no lost update)", async () => {
    const stack = await boot();
    try {
      const tx = stack.app.get(TransactionRunner);
      const rows = stack.app.get(DataSource).getRepository(Instance);
      // The instance kept by the first test: AMS is starting it again meanwhile, and its own
      // status changes are read-modify-writes of the same row.
      const [before] = await rows.find();
      const bump = () =>
        tx.run(async (m) => {
          const repo = m.getRepository(Instance);
          const row = await repo.findOneOrFail({ where: { id: before.id }, ...forUpdate(m) });
          await new Promise((r) => setTimeout(r, 5)); // widen the window between read and write
          row.memory += 1;
          await repo.save(row);
        });
      await Promise.all(Array.from({ length: 10 }, bump));
      expect((await rows.findOneByOrFail({ id: before.id })).memory).toBe(before.memory + 10);
      // Close only once that restart is done: closing in the middle of it leaves the instance
      // `created` in the database, and nothing starts a `created` instance again.
      await eventually(async () => (await rows.findOneByOrFail({ id: before.id })).status === 'running', 30_000);
    } finally {
      await stack.close();
    }
  });

  it("never places more instances on a node than it has room for, however many launch at once", async () => {
    const stack = await boot();
    try {
      const api = client(stack.url, ADMIN_TOKEN);
      // One instance of this app takes every schedulable CPU of the node (4 × its CPUs by default).
      const whole = cpus().length * 4;
      await api("POST", "/ams/1.0/applications", {
        body: testPatternManifest("greedy", { resources: { cpus: whole, memory: "256MB" } }),
      });
      // Start from an empty node: the instance kept by the first test goes (it may still be starting).
      const kept = await eventually(async () => {
        const list = (await api("GET", "/ams/1.0/instances")).body.metadata as { id: string; status: string }[];
        return list.every((i) => ["running", "error", "stopped"].includes(i.status)) ? list : null;
      }, 30_000);
      for (const i of kept) {
        const del = await api("DELETE", `/ams/1.0/instances/${i.id}?force=true`);
        expect((await api("GET", `${del.body.operation}/wait?timeout=30`)).body.metadata.status).toBe("success");
      }
      expect((await api("GET", "/ams/1.0/nodes")).body.metadata[0].allocated_cpus).toBe(0);

      const launches = await Promise.all(
        Array.from({ length: 5 }, () => api("POST", "/ams/1.0/instances", { body: { app: "greedy" } })),
      );
      expect(launches.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409]);
      const [n] = (await api("GET", "/ams/1.0/nodes")).body.metadata;
      expect(n.allocated_cpus).toBe(whole);
      const placed = launches.find((r) => r.status === 202)!;
      await api("GET", `${placed.body.operation}/wait?timeout=60`);
    } finally {
      await stack.close();
    }
  });

  // Last: it boots and closes a stack, which the tests above must not see happen in between.
  it("registers one node name from many registrations at once, keeping its unschedulable flag", async () => {
    // save() selected, then inserted: concurrent registrations of one name hit a duplicate key.
    const stack = await boot();
    try {
      const { NodesService } = await import("../src/ams/nodes/nodes.service");
      const nodes = stack.app.get(NodesService);
      const reg = { name: "twice-registered", address: "127.0.0.1", cpus: 2, memory: 2 ** 30 };
      await Promise.all(Array.from({ length: 8 }, () => nodes.register(reg)));
      await client(stack.url, ADMIN_TOKEN)("PATCH", "/ams/1.0/nodes/twice-registered", { body: { unschedulable: true } });
      await Promise.all(Array.from({ length: 8 }, () => nodes.register({ ...reg, cpus: 4 })));
      const all = (await nodes.list()).filter((n) => n.name === "twice-registered");
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ cpus: 4, unschedulable: true });
    } finally {
      // Not a real node: the placement tests below must not see it.
      await stack.app.get(DataSource).getRepository(NodeRecord).delete({ name: "twice-registered" });
      await stack.close();
    }
  });
});

describe("migrations on a fresh PostgreSQL database", () => {
  it("three processes starting together migrate once, one after another, without a failed attempt", async () => {
    // Unlocked, they raced ("duplicate key ... pg_type_typname_nsp_index") and retried.
    const database = await freshSchema();
    const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), "streamstack-migrate-")));
    const logs = dirs.map(() => logCollector());
    const stacks = await Promise.all(
      dirs.map((dir, i) =>
        startApp({ STREAMSTACK_DATA_DIR: dir, STREAMSTACK_DATABASE_URL: database.url, STREAMSTACK_NODE_NAME: `migrating-${i}` }, { logSink: logs[i].sink }),
      ),
    );
    try {
      const migrations = await stacks[0].app.get(DataSource).query("SELECT name FROM migrations ORDER BY id");
      expect(migrations.map((m: { name: string }) => m.name)).toEqual(["GatewaySchema1764000000000", "AmsSchema1764000000001", "SessionSpectators1764200000000"]);
      for (const { lines } of logs) {
        // TypeOrmModule logs a failed start as "Unable to connect to the database. Retrying".
        expect(lines.filter((l) => /pg_type_typname_nsp_index|Unable to connect|migration/i.test(l))).toEqual([]);
      }
      for (const stack of stacks) expect((await client(stack.url, ADMIN_TOKEN)("GET", "/1.0/accounts")).status).toBe(200);
      // Gateways starting together each make sure of the bootstrap admin: one makes it, the
      // others converge on it instead of failing their start on its unique name.
      const accounts = stacks[0].app.get(AccountsService);
      const ds = stacks[0].app.get(DataSource);
      await ds.query("DELETE FROM accounts");
      await Promise.all([0, 1, 2, 3, 4].map(() => accounts.ensureBootstrapAdmin(ADMIN_TOKEN)));
      expect(await ds.query("SELECT name, role FROM accounts")).toEqual([{ name: "admin", role: "admin" }]);
    } finally {
      await Promise.all(stacks.map((s) => s.close()));
      await database.drop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Each role owns its tables' migrations: a process creates only the tables of the roles it runs. */
describe.each([
  ["SQLite", async () => ({ url: "", drop: async () => undefined })],
  ["PostgreSQL", freshSchema],
])("each role's migrations on %s", (_name, makeDatabase) => {
  let dataDir: string;
  let database: { url: string; drop(): Promise<void> };
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "streamstack-roles-"));
    database = await makeDatabase();
  });
  afterEach(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const EVERY_TABLE = ["accounts", "application_versions", "applications", "instances", "nodes", "operations", "sessions"];

  /** Migrates as a process of `roles` would; answers the tables and the migrations on record. */
  async function migrate(roles: Role[], before?: (ds: DataSource) => Promise<unknown>): Promise<{ tables: string[]; migrations: string[] }> {
    const ds = await new DataSource(dataSourceOptions({ databaseUrl: database.url, dataDir, migrations: roleMigrations(roles) })).initialize();
    try {
      await before?.(ds);
      await runMigrationsLocked(ds);
      const runner = ds.createQueryRunner();
      const tables: string[] = [];
      for (const table of EVERY_TABLE) if (await runner.hasTable(table)) tables.push(table);
      await runner.release();
      const migrations = ((await ds.query("SELECT name FROM migrations ORDER BY id")) as { name: string }[]).map((m) => m.name);
      return { tables, migrations };
    } finally {
      await ds.destroy();
    }
  }

  it("creates the gateway's tables for a gateway, AMS's for AMS, and none for a node or an agent", async () => {
    expect(await migrate(["node", "agent"])).toEqual({ tables: [], migrations: [] });
    expect(await migrate(["gateway"])).toEqual({ tables: ["accounts", "sessions"], migrations: ["GatewaySchema1764000000000", "SessionSpectators1764200000000"] });
    expect(await migrate(["ams"])).toEqual({
      tables: EVERY_TABLE,
      migrations: ["GatewaySchema1764000000000", "SessionSpectators1764200000000", "AmsSchema1764000000001"],
    });
  });

  it("takes over a database made by the one shared history of before, keeping its rows", async () => {
    // That history made the same tables under other names: recreate its record of itself.
    await migrate(["gateway", "ams"]);
    const shared = await migrate([], async (ds) => {
      await ds.query("DELETE FROM migrations");
      await ds.query("ALTER TABLE sessions DROP COLUMN spectators"); // came later
      await ds.query("INSERT INTO migrations (timestamp, name) VALUES (1764000000000, 'InitialSchema1764000000000'), (1764100000000, 'Sessions1764100000000')");
      await ds.query("INSERT INTO applications (name, created_at, updated_at) VALUES ('kept', 'x', 'x')");
    });
    expect(shared.migrations).toEqual(["InitialSchema1764000000000", "Sessions1764100000000"]);
    const after = await migrate(["gateway", "ams"], async (ds) => {
      expect(await ds.query("SELECT name FROM applications")).toEqual([{ name: "kept" }]);
    });
    expect(after.migrations).toEqual(["InitialSchema1764000000000", "Sessions1764100000000", "GatewaySchema1764000000000", "AmsSchema1764000000001", "SessionSpectators1764200000000"]);
    expect(after.tables).toEqual(EVERY_TABLE);
  });
});
