"""Reading the batch report as a browser would: its tiles, with their picture and links."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Tile:
    id: str
    status: str
    picture: str | None = None
    links: list[str] = field(default_factory=list)


class _Tiles(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tiles: list[Tile] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "li" and "tile" in found.get("class", "").split():
            status = [c for c in found["class"].split() if c not in ("item", "tile")]
            self.tiles.append(Tile(found["id"].removeprefix("item-"), " ".join(status)))
            self._open = True
        elif self._open and tag == "img":
            self.tiles[-1].picture = found["src"]
        elif self._open and tag == "a":
            self.tiles[-1].links.append(found["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._open = False


def tiles(page: str) -> list[Tile]:
    parser = _Tiles()
    parser.feed(page)
    return parser.tiles
