"""missing-dependency: bare imports against the nearest package.json and the workspace root."""

from __future__ import annotations

import json

import pytest

from checks.rules.missing_dependency import is_bare, package_name, types_package

from .conftest import MakeRepo, audit_rule, where


def manifest(name: str, **fields: dict[str, str] | list[str]) -> str:
    return json.dumps({"name": name, "version": "1.0.0", **fields}, indent=2)


ROLLUP = """\
import { defineConfig } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs/dist/es/index.js';
import typescript from '@rollup/plugin-typescript';

export default defineConfig({ plugins: [resolve(), commonjs(), typescript()] });
"""


def workspace(**extra: str) -> dict[str, str]:
    files = {
        "package.json": manifest(
            "mono", workspaces=["orchestrator"], devDependencies={"typescript": "^5"}
        ),
        "orchestrator/package.json": manifest(
            "@acme/orchestrator",
            dependencies={"hono": "^4"},
            devDependencies={"@rollup/plugin-typescript": "^12"},
        ),
        "orchestrator/rollup.config.mjs": ROLLUP,
    }
    files.update(extra)
    return files


def test_undeclared_rollup_plugins_are_reported_per_import(make_repo: MakeRepo) -> None:
    root = make_repo(workspace())

    findings = audit_rule(root, "missing-dependency")

    assert where(findings) == [("orchestrator/rollup.config.mjs", line) for line in (1, 2, 3)]
    assert (
        "'@rollup/plugin-commonjs' is imported but not declared in orchestrator/package.json"
        in findings[2].message
    )
    assert "workspace root (package.json)" in findings[2].message
    assert findings[0].column == 30


def test_every_dependency_field_and_the_workspace_root_count(make_repo: MakeRepo) -> None:
    source = """\
import { Hono } from 'hono';
import { z } from 'zod';
import ts from 'typescript';
import { drizzle } from 'drizzle-orm/d1';
export { thing } from 'left-pad';
const lazy = await import('lodash-es');
const legacy = require('chalk');
import type { Config } from 'prettier';
import type { ExecutionContext } from '@cloudflare/workers-types';
import self from '@acme/orchestrator/utils';
"""
    files = workspace(**{"orchestrator/worker/index.ts": source})
    files["orchestrator/package.json"] = manifest(
        "@acme/orchestrator",
        dependencies={"hono": "^4", "drizzle-orm": "^0.36"},
        devDependencies={"@rollup/plugin-typescript": "^12", "zod": "^3", "rollup": "^4"},
        peerDependencies={"left-pad": "*", "@rollup/plugin-node-resolve": "^15"},
        optionalDependencies={"lodash-es": "*", "@rollup/plugin-commonjs": "^28", "chalk": "^5"},
    )
    files["package.json"] = manifest(
        "mono",
        workspaces=["orchestrator"],
        devDependencies={
            "typescript": "^5",
            "@types/prettier": "^3",
            "@cloudflare/workers-types": "^4",
        },
    )
    root = make_repo(files)

    assert audit_rule(root, "missing-dependency") == []


def test_builtins_schemes_relative_and_aliases_are_fine(make_repo: MakeRepo) -> None:
    source = """\
import fs from 'fs';
import { readFile } from 'fs/promises';
import crypto from 'node:crypto';
import { DurableObject } from 'cloudflare:workers';
import { helper } from './helper';
import { App } from '@/App';
import { config } from '~config';
import local from 'src/local';
import internal from '#internal/x';
"""
    tsconfig = """\
{
  // aliases
  "compilerOptions": {
    "baseUrl": ".",
    "paths": { "@/*": ["./src/*"], "~config": ["./config.ts"] },
  },
}
"""
    files = workspace(
        **{
            "orchestrator/worker/index.ts": source,
            "orchestrator/tsconfig.json": tsconfig,
            "orchestrator/src/local.ts": "export default 1;\n",
        }
    )
    files["orchestrator/rollup.config.mjs"] = "export default {};\n"
    root = make_repo(files)

    assert audit_rule(root, "missing-dependency") == []


def test_type_imports_need_the_package_or_its_types(make_repo: MakeRepo) -> None:
    source = "import type { Request } from 'express';\nimport type { Foo } from '@scope/pkg';\n"
    files = workspace(**{"orchestrator/a.ts": source})
    files["orchestrator/rollup.config.mjs"] = "export default {};\n"
    files["orchestrator/package.json"] = manifest("o", devDependencies={"@types/scope__pkg": "*"})
    root = make_repo(files)

    findings = audit_rule(root, "missing-dependency")

    assert where(findings) == [("orchestrator/a.ts", 1)]
    assert "'express'" in findings[0].message


def test_files_outside_any_package_and_standalone_packages(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "scripts/tool.js": "const yaml = require('js-yaml');\n",
            "lib/package.json": manifest("lib"),
            "lib/index.js": "import yaml from 'js-yaml';\n",
        }
    )

    findings = audit_rule(root, "missing-dependency")

    assert where(findings) == [("lib/index.js", 1)]
    assert findings[0].message == "'js-yaml' is imported but not declared in lib/package.json"


def test_specifier_helpers() -> None:
    assert package_name("@rollup/plugin-commonjs/dist/x") == "@rollup/plugin-commonjs"
    assert package_name("lodash/fp") == "lodash"
    assert types_package("@scope/pkg") == "@types/scope__pkg"
    assert types_package("express") == "@types/express"
    assert [is_bare(s) for s in ("./x", "node:fs", "#a", "a")] == [False, False, False, True]


def test_import_equals_require_and_commented_dynamic_imports(make_repo: MakeRepo) -> None:
    source = (
        'import fs = require("fs-extra");\n'
        'const m = await import(/* webpackChunkName: "x" */ "lazy-lib");\n'
        'const path = require.resolve("only-resolved");\n'
    )
    root = make_repo({"package.json": manifest("app"), "src/index.ts": source})

    findings = audit_rule(root, "missing-dependency")

    assert where(findings) == [("src/index.ts", 1), ("src/index.ts", 2)]
    assert "'lazy-lib'" in findings[1].message


def test_typeof_import_in_a_type_is_satisfied_by_types(make_repo: MakeRepo) -> None:
    source = 'type Express = typeof import("express");\nlet a: typeof import("koa").Ctx;\n'
    files = {
        "package.json": manifest("app", devDependencies={"@types/express": "*"}),
        "src/types.ts": source,
    }
    root = make_repo(files)

    assert where(audit_rule(root, "missing-dependency")) == [("src/types.ts", 2)]


def test_workers_sites_manifest_is_a_runtime_module(make_repo: MakeRepo) -> None:
    source = (
        "import manifestJSON from '__STATIC_CONTENT_MANIFEST';\n"
        "import { getAssetFromKV } from '@cloudflare/kv-asset-handler';\n"
    )
    root = make_repo({"package.json": manifest("site"), "src/index.ts": source})

    findings = audit_rule(root, "missing-dependency")

    assert where(findings) == [("src/index.ts", 2)]


def test_template_literal_imports_without_substitutions(make_repo: MakeRepo) -> None:
    source = (
        "const a = await import(`lazy-lib/sub`);\n"
        "const b = require(`legacy-lib`);\n"
        "const c = await import(`./locale/${lang}.js`);\n"
        "const d = await import(`${base}-plugin`);\n"
        "const e = await import(`declared`);\n"
    )
    root = make_repo(
        {"package.json": manifest("app", dependencies={"declared": "1"}), "src/index.js": source}
    )

    findings = audit_rule(root, "missing-dependency")

    assert where(findings) == [("src/index.js", 1), ("src/index.js", 2)]
    assert "'lazy-lib'" in findings[0].message
    assert findings[0].column == 24


@pytest.mark.parametrize(
    "text",
    [
        "[1]",
        '"name"',
        "{",
        '{"dependencies": ["js-yaml"]}',
        '{"devDependencies": "js-yaml"}',
        "[" * 3000 + "]" * 3000,
    ],
)
def test_a_manifest_we_cannot_read_declares_anything(make_repo: MakeRepo, text: str) -> None:
    root = make_repo(
        {
            "package.json": manifest("mono", workspaces=["lib"]),
            "lib/package.json": text,
            "lib/index.js": "import yaml from 'js-yaml';\n",
            "other/package.json": manifest("other"),
            "other/index.js": "import yaml from 'js-yaml';\n",
        }
    )

    assert where(audit_rule(root, "missing-dependency")) == [("other/index.js", 1)]


def test_an_unreadable_workspace_root_may_declare_anything(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "package.json": '{"workspaces": ["lib"], "devDependencies": 3}',
            "lib/package.json": manifest("lib"),
            "lib/index.js": "import yaml from 'js-yaml';\n",
        }
    )

    assert audit_rule(root, "missing-dependency") == []


def test_a_manifest_with_a_byte_order_mark_is_read(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "package.json": "\ufeff" + manifest("app", dependencies={"hono": "4"}),
            "src/index.ts": "import { Hono } from 'hono';\nimport yaml from 'js-yaml';\n",
        }
    )

    assert where(audit_rule(root, "missing-dependency")) == [("src/index.ts", 2)]


@pytest.mark.parametrize(
    "tsconfig",
    [
        '{"compilerOptions": {"paths": [1], "baseUrl": 3}}',
        '{"compilerOptions": "x"}',
        '{"extends": 3, "include": "src"}',
        '{"extends": "pkg"}',
        "[" * 3000 + "]" * 3000,
    ],
)
def test_tsconfigs_of_any_shape_never_crash(make_repo: MakeRepo, tsconfig: str) -> None:
    root = make_repo(
        {
            "package.json": manifest("app"),
            "tsconfig.json": tsconfig,
            "node_modules/pkg/package.json": "[1]",
            "src/index.ts": "import yaml from 'js-yaml';\n",
        }
    )

    assert where(audit_rule(root, "missing-dependency")) == [("src/index.ts", 1)]
