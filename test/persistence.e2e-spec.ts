import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataSource } from "typeorm";
import { ADMIN_TOKEN, eventually, startApp } from "./support/app";
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

  const boot = () =>
    startApp(
      { STREAMSTACK_DATA_DIR: dataDir, STREAMSTACK_DATABASE_URL: database.url },
      { keepData: true },
    );

  it("runs the migrations, stores state, and keeps it across a restart", async () => {
    let stack = await boot();
    let api = client(stack.url, ADMIN_TOKEN);
    const migrations = await stack.app
      .get(DataSource)
      .query("SELECT name FROM migrations");
    expect(migrations.map((m: { name: string }) => m.name)).toEqual([
      "InitialSchema1764000000000",
      "Sessions1764100000000",
    ]);

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
});
