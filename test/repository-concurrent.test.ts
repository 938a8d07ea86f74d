import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Repository } from "../src/repository";
import { cleanup, FIXTURES, runScript, sha256, snapshot, tarball, tempDir } from "./repository-helpers";

const CHILD = path.join(__dirname, "repository-child.ts");

describe("repository: concurrent installs", () => {
  after(cleanup);

  it("four processes installing the same tarball at once end with one good copy", async function () {
    this.timeout(120000);
    const file = await tarball(path.join(FIXTURES, "scale"), path.join(tempDir(), "scale.tgz"));
    for (let round = 0; round < 3; round++) {
      const root = tempDir();
      const startAt = String(Date.now() + 3000);
      const runs = await Promise.all([0, 1, 2, 3].map(() => runScript(CHILD, [root, file, startAt])));
      for (const run of runs) expect(run.status, run.output).to.equal(0);
      const results = runs.map((run) => JSON.parse(run.output) as { installed: boolean; key: string });
      expect(results.filter((result) => result.installed)).to.have.length(1);
      expect(new Set(results.map((result) => result.key)).size).to.equal(1);
      // One copy, no staging left-overs, and it verifies.
      expect(fs.readdirSync(root)).to.deep.equal(["fixture"]);
      expect(snapshot(root).filter((line) => line.startsWith("fixture/1.2.0/scale.cl"))).to.deep.equal([
        `fixture/1.2.0/scale.cl ${sha256(path.join(FIXTURES, "scale", "scale.cl"))}`,
      ]);
      expect(new Repository({ root, system: [] }).verify().every((result) => result.ok)).to.equal(true);
    }
  });
});
