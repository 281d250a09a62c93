"""Datasette plugin for Tributary's database: the SQL function its schema
uses to keep articles' HTML compressed.

Tributary stores an article's HTML and summary zlib-compressed, together,
as SQLite archives store files (`articles.texts_zlib`, `articles.texts_size`),
and the views `article_html` and `latest_articles` read them with
`sqlar_uncompress(data, size)`, which the `sqlite3` shell has but Python's
`sqlite3` module (and so Datasette) does not. This adds it, with the
shell's meaning:

    datasette serve data/tributary.db --plugins-dir scripts/datasette

Reading never makes more than the declared size (a value that would
inflate further is an error). The plain text (`article_text`, which needs
Tributary's own `html_text`) is not available here: use
`tributary search` or the HTML.
"""

import zlib

from datasette import hookimpl


def sqlar_uncompress(data, size):
    """`data` when `size` is not positive or is its length, else `data`
    inflated into exactly `size` bytes."""
    if data is None:
        return None
    if isinstance(data, str):
        data = data.encode()
    if size is None or size <= 0 or size == len(data):
        return data
    inflate = zlib.decompressobj()
    out = inflate.decompress(data, size + 1)
    if len(out) != size or not inflate.eof:
        raise ValueError(f"the value does not inflate to its declared {size} bytes")
    return out


@hookimpl
def prepare_connection(conn):
    conn.create_function("sqlar_uncompress", 2, sqlar_uncompress, deterministic=True)
