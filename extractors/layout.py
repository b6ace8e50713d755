"""Page clean-ups applied to the parsed tree before trafilatura sees it.

Old sites lay pages out with tables: navigation, article and "most read"
columns are cells of one big table. Trafilatura keeps tables as data, so the
whole layout ends up in the text (or, with ``include_tables=False``, the
article disappears with it). A table whose cells hold headings, paragraphs
or other tables is a layout table; turning it into plain ``div``s lets the
extractor judge each column on its own. Data tables (cells with short inline
text) are left alone.
"""

from __future__ import annotations

from lxml.html import HtmlElement

_BLOCKS = frozenset({"p", "div", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "form"})
_HEADINGS = frozenset({"h1", "h2", "h3"})
_TABLE_PARTS = ("thead", "tbody", "tfoot", "tr", "td", "th", "caption")
# One cheap libxml2 test per element; the class tokens are checked in Python on the few hits.
_PULLQUOTE_XPATH = "//*[contains(@class, 'pull')]"


def _is_comment_table(table: HtmlElement) -> bool:
    # Trafilatura's comment rules only look at div/section/list elements.
    marker = f"{table.get('id', '')} {table.get('class', '')}".strip().lower()
    return marker.startswith("comment") or " comment" in f" {marker}"


def _is_layout_table(table: HtmlElement) -> bool:
    if (table.get("role") or "").lower() in ("presentation", "none"):
        return True
    for cell in table.iter("td", "th"):
        tags = [child.tag for child in cell.iterdescendants() if isinstance(child.tag, str)]
        if "table" in tags:
            return True
        # A heading in a header cell titles a data table's rows (a recipe's "For the dough:").
        if cell.tag == "td" and _HEADINGS.intersection(tags):
            return True
        if sum(tag in _BLOCKS for tag in tags) >= 3:
            return True
    return False


def unwrap_layout_tables(tree: HtmlElement) -> int:
    """Rename layout (and comment) tables and their rows/cells to ``div`` in place; returns how many.

    Comment tables become divs too, so trafilatura's comment rules can remove them.
    """
    count = 0
    # Outermost first: once a layout table is unwrapped, nested ones are judged alone.
    for table in list(tree.iter("table")):
        if table.tag != "table" or not (_is_layout_table(table) or _is_comment_table(table)):
            continue
        own_parts = [el for el in table.iter(*_TABLE_PARTS) if _nearest_table(el) is table]
        for element in [table, *own_parts]:
            element.tag = "div"
            for attr in ("width", "valign", "align", "colspan", "rowspan", "cellpadding", "cellspacing", "border"):
                element.attrib.pop(attr, None)
        count += 1
    return count


def _nearest_table(element: HtmlElement) -> HtmlElement | None:
    parent = element.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _is_pullquote(classes: str) -> bool:
    return "pullquote" in classes.split() or "pull-quote" in classes or "wp-block-pullquote" in classes


def drop_pullquotes(tree: HtmlElement) -> int:
    """Remove pull quotes: they repeat a sentence of the body in large type."""
    found = [element for element in tree.xpath(_PULLQUOTE_XPATH) if _is_pullquote(element.get("class", ""))]
    for element in found:
        element.drop_tree()
    return len(found)
