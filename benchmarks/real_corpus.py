"""A Workers-style monorepo built from real published TypeScript and JavaScript, for benchmarks.

Synthetic trees hide what real code costs (long files, deep nesting, JSX, tsconfig chains,
thousands of imports). This module fetches pinned npm tarballs with `npm pack` into
`build/npm/` (kept between runs, never committed) and lays them out as an npm-workspaces
monorepo in `build/real-mono/`, committed to its own git repository:

- `apps/*`: Workers (a `wrangler.toml` or `wrangler.jsonc` with crons, a `src/index.ts` entry
  point with a `scheduled` handler), each holding one published package's files;
- `packages/*`: libraries, among them TSX (the React bindings of TanStack Query and Router);
- per-workspace `tsconfig.json` extending a root `tsconfig.base.json` with `paths` aliases, one
  of them missing `jsx` although it includes `.tsx` files;
- vendored code that is audited (`packages/shared/vendor/`) and a committed `node_modules` that
  is not.

Published builds live in `dist/`, which the audit skips as generated output wherever it sits;
here those files stand in for a workspace's own sources, so `dist/` becomes `lib/`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

BUILD = Path(__file__).resolve().parent.parent / "build"
SOURCE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".py")


@dataclass(frozen=True)
class Workspace:
    spec: str  # pinned npm package
    directory: str  # where its files go in the monorepo
    worker: bool = False  # a Worker: wrangler config and a scheduled entry point
    jsx: bool | None = None  # tsconfig `jsx`: True set, False missing, None no tsconfig


WORKSPACES = (
    Workspace("hono@4.13.23", "apps/api", worker=True),
    Workspace("drizzle-orm@0.45.4", "apps/db-worker", worker=True),
    Workspace("@tanstack/react-router@1.170.46", "apps/web", worker=True, jsx=True),
    Workspace("@tanstack/react-query@5.108.4", "packages/query-react", jsx=False),
    Workspace("@tanstack/query-core@5.108.4", "packages/query-core", jsx=True),
    Workspace("@tanstack/router-core@1.171.39", "packages/router-core", jsx=True),
    Workspace("zod@4.6.7", "packages/schema", jsx=True),
    Workspace("rxjs@7.8.2", "packages/streams", jsx=True),
    Workspace("valibot@1.5.0", "packages/validate", jsx=True),
)
VENDORED = ("@cloudflare/workers-types@5.20261117.1", "packages/shared/vendor/workers-types")
COMMITTED_NODE_MODULES = ("valibot@1.5.0", "apps/api/node_modules/valibot")


def fetch(spec: str, cache: Path) -> Path:
    """The tarball of `spec`, from `cache` or fetched with `npm pack` (printed when fetched)."""
    cache.mkdir(parents=True, exist_ok=True)
    stamp = cache / (spec.replace("/", "__") + ".tgz")
    if stamp.is_file():
        return stamp
    print(f"fetching {spec} (npm pack)", flush=True)
    listed = subprocess.run(
        ["npm", "pack", "--silent", "--pack-destination", str(cache), spec],
        cwd=cache,
        capture_output=True,
        text=True,
        check=True,
    )
    produced = cache / listed.stdout.strip().splitlines()[-1]
    produced.replace(stamp)
    return stamp


def _unpack(tarball: Path, target: Path) -> None:
    """Extract the tarball's `package/` into `target`, `dist/` renamed `lib/`."""
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            parts = Path(member.name).parts[1:]  # drop the leading `package/`
            parts = tuple("lib" if part == "dist" else part for part in parts)
            if not parts or any(part in ("..", "node_modules") for part in parts):
                continue
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            extracted = archive.extractfile(member)
            if extracted is not None:
                destination.write_bytes(extracted.read())


WRANGLER_TOML = """\
name = "{name}"
main = "src/index.ts"
compatibility_date = "2024-11-01"

[triggers]
crons = ["*/5 * * * *", "0 3 * * *"]

[[d1_databases]]
binding = "DB_APP"
database_name = "{name}"
database_id = "00000000-0000-0000-0000-000000000000"
"""

WRANGLER_JSONC = """\
// Worker configuration
{{
  "name": "{name}",
  "main": "src/index.ts",
  "compatibility_date": "2024-11-01",
  "triggers": {{ "crons": ["0 * * * *", "30 2 * * 1"] }},
}}
"""

ENTRY = """\
export interface Env {{
  DB_APP: D1Database;
}}

export default {{
  async fetch(request: Request, env: Env): Promise<Response> {{
    return new Response("{name}");
  }},
  async scheduled(event: ScheduledEvent, env: Env, ctx: ExecutionContext): Promise<void> {{
    switch (event.cron) {{
      case "{first}":
        ctx.waitUntil(env.DB_APP.prepare("SELECT 1").run());
        break;
      default:
        break;
    }}
  }},
}};
"""


def _tsconfig(workspace: Workspace) -> dict[str, object]:
    options: dict[str, object] = {"paths": {"@/*": ["./src/*"], "~lib/*": ["./lib/*"]}}
    if workspace.jsx:
        options["jsx"] = "react-jsx"
    return {
        "extends": "../../tsconfig.base.json",
        "compilerOptions": options,
        "include": ["src", "lib", "build", "*.ts"],
    }


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def build(root: Path | None = None, cache: Path | None = None) -> Path:
    """Fetch what is missing and (re)build the monorepo at `root`; returns `root`."""
    root = root or BUILD / "real-mono"
    cache = cache or BUILD / "npm"
    specs = [w.spec for w in WORKSPACES] + [VENDORED[0], COMMITTED_NODE_MODULES[0]]
    tarballs = {spec: fetch(spec, cache) for spec in specs}
    marker = root / ".corpus"
    wanted = json.dumps(sorted(specs)) + "\n"
    if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for workspace in WORKSPACES:
        target = root / workspace.directory
        _unpack(tarballs[workspace.spec], target)
        name = workspace.directory.rsplit("/", 1)[-1]
        if workspace.worker:
            crons = ("*/5 * * * *", "0 * * * *")
            if name == "web":
                (target / "wrangler.jsonc").write_text(WRANGLER_JSONC.format(name=name), "utf-8")
                first = crons[1]
            else:
                (target / "wrangler.toml").write_text(WRANGLER_TOML.format(name=name), "utf-8")
                first = crons[0]
            entry = target / "src" / "index.ts"
            entry.parent.mkdir(parents=True, exist_ok=True)
            entry.write_text(ENTRY.format(name=name, first=first), encoding="utf-8")
        if workspace.jsx is not None:
            _write_json(target / "tsconfig.json", _tsconfig(workspace))
    _unpack(tarballs[VENDORED[0]], root / VENDORED[1])
    _unpack(tarballs[COMMITTED_NODE_MODULES[0]], root / COMMITTED_NODE_MODULES[1])
    _write_json(
        root / "package.json",
        {
            "name": "mono",
            "private": True,
            "workspaces": ["apps/*", "packages/*"],
            "devDependencies": {"typescript": "5.9.3", "wrangler": "^3.95.0"},
        },
    )
    _write_json(
        root / "tsconfig.base.json",
        {
            "compilerOptions": {
                "target": "ES2022",
                "module": "ESNext",
                "moduleResolution": "Bundler",
                "strict": True,
                "types": ["@cloudflare/workers-types"],
            }
        },
    )
    _write_json(root / "packages/shared/package.json", {"name": "@mono/shared", "private": True})
    (root / ".gitignore").write_text(".corpus\n.semgrepignore\n", encoding="utf-8")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A", "-f", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "--no-gpg-sign", "-m", "corpus"], cwd=root, check=True)
    marker.write_text(wanted, encoding="utf-8")
    return root


def sources(root: Path) -> list[str]:
    """The audited source files of the corpus (git's list less the default exclusions)."""
    from checks.files import DEFAULT_EXCLUDES

    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode("utf-8")
    excluded = set(DEFAULT_EXCLUDES)
    return [
        path
        for path in listed.split("\0")
        if path.endswith(SOURCE_SUFFIXES) and not excluded & set(path.split("/"))
    ]


if __name__ == "__main__":
    built = build()
    files = sources(built)
    lines = sum((built / path).read_bytes().count(b"\n") for path in files)
    print(f"{built}: {len(files)} source files, {lines} lines")
