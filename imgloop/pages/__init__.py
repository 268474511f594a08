"""The report pages (a run's and a batch's) and the header they share: jinja2 templates in this folder,
rendered with autoescaping, so everything taken from a run is data, never markup."""

from pathlib import Path

import jinja2

PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    keep_trailing_newline=True,
)
