"""db-ops-access: computed destructuring keys, and Wrangler configs of any shape."""

from __future__ import annotations

import pytest

from .conftest import MakeRepo, audit_rule, where

COMPUTED = """\
export async function handler(env: Env) {
  const { ["DB_OPS"]: ops } = env;
  const { [`DB_OPS`]: again } = env;
  const { [KEY]: other, ["DB_OPS_BACKUP"]: backup } = env;
  return [ops, again, other, backup];
}
"""


def test_computed_destructuring_keys_with_literal_strings(make_repo: MakeRepo) -> None:
    root = make_repo({"apps/a/worker/index.ts": COMPUTED})

    findings = audit_rule(root, "db-ops-access")

    assert where(findings) == [("apps/a/worker/index.ts", 2), ("apps/a/worker/index.ts", 3)]
    assert [f.column for f in findings] == [13, 12]  # the name, or the template literal
    assert all(f.message.startswith("DB_OPS used directly") for f in findings)


def test_computed_keys_in_parameters_and_templates_with_substitutions(
    make_repo: MakeRepo,
) -> None:
    source = (
        "export const f = ({ ['DB_OPS']: db }: Env) => db;\n"
        "export const g = ({ [`DB_${'OPS'}`]: db }: Env) => db;\n"
    )
    root = make_repo({"worker.js": source.replace(": Env", "")})

    assert where(audit_rule(root, "db-ops-access")) == [("worker.js", 1)]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("wrangler.toml", 'name = "a"\nenv = "x"\n# DB_OPS\n'),
        ("wrangler.toml", 'name = "a"\nenv = [1, "DB_OPS"]\n'),
        ("wrangler.toml", 'name = "a"\nd1_databases = 3\n# DB_OPS\n'),
        ("wrangler.toml", 'd1_databases = "DB_OPS"\n'),
        ("wrangler.toml", 'd1_databases = [{ binding = ["DB_OPS"] }, "DB_OPS", 1]\n'),
        ("wrangler.toml", "[env.a]\nd1_databases = { binding = 'DB_OPS' }\n"),
        ("wrangler.toml", "a = " + "[" * 3000 + "]" * 3000 + "\n# DB_OPS\n"),
        ("wrangler.json", '["DB_OPS"]'),
        ("wrangler.json", '{"env": {"a": 3, "b": {"d1_databases": {"binding": "DB_OPS"}}}}'),
        ("wrangler.json", '{"env": {"a": {"d1_databases": [null, {"binding": null}]}}} // DB_OPS'),
        ("wrangler.jsonc", '{"d1_databases": 3} // DB_OPS'),
        ("wrangler.jsonc", "[" * 3000 + "]" * 3000 + " // DB_OPS"),
    ],
)
def test_wrangler_configs_of_any_shape_never_crash(
    make_repo: MakeRepo, name: str, text: str
) -> None:
    root = make_repo({f"apps/a/{name}": text})

    assert audit_rule(root, "db-ops-access") == []


def test_well_formed_entries_are_still_found_next_to_odd_ones(make_repo: MakeRepo) -> None:
    config = """\
name = "billing"
d1_databases = [
  "not a table",
  { binding = "DB_APP", database_name = "app" },
  { binding = "DB_OPS", database_name = "ops" },
]

[env.staging]
d1_databases = 7

[env.production]
d1_databases = [{ binding = "DB_OPS", database_name = "ops" }]
"""
    root = make_repo({"apps/billing/wrangler.toml": config, "wrangler.toml": 'env = "x"\n'})

    findings = audit_rule(root, "db-ops-access")

    assert where(findings) == [
        ("apps/billing/wrangler.toml", 5),
        ("apps/billing/wrangler.toml", 12),
    ]
