import { pollUntil, settlesWithin } from "./poll";

describe("pollUntil", () => {
  it('resolves with the first value that is something (0 and "" are; false, null and undefined are not)', async () => {
    const answers: unknown[] = [undefined, null, false, 0];
    await expect(
      pollUntil(
        () => answers.shift() as number | false | null | undefined,
        1000,
        "a zero",
        1,
      ),
    ).resolves.toBe(0);
    const more: unknown[] = [false, ""];
    await expect(
      pollUntil(
        () => more.shift() as string | false,
        1000,
        "an empty string",
        1,
      ),
    ).resolves.toBe("");
  });

  it("rejects after its timeout, naming what did not come, having polled all along", async () => {
    let calls = 0;
    await expect(
      pollUntil(() => (calls++, false), 60, "the socket", 5),
    ).rejects.toThrow("the socket: not within 60 ms");
    expect(calls).toBeGreaterThan(3);
  });
});

describe("settlesWithin", () => {
  it("says true as soon as the promise settles, fulfilled or rejected", async () => {
    const started = Date.now();
    await expect(settlesWithin(Promise.resolve(1), 5000)).resolves.toBe(true);
    await expect(settlesWithin(Promise.reject(new Error("no")), 5000)).resolves.toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("says false once the time passed first", async () => {
    await expect(settlesWithin(new Promise(() => undefined), 30)).resolves.toBe(false);
  });
});
