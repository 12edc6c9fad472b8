"""The readiness report: one model (`model`), evaluated from a plan (`build`), rendered as
Markdown, HTML and JSON (`render`, `trend`) and written with its history (`files`, `git`)."""
