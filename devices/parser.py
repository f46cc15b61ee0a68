"""The device catalogue and the parser that turns a free-text description into a quote request.

People describe a device for a trade-in quote the way they would to a shop:
"iPhone14Pro 256G 国行 95新 电池87%", "华为Mate60 Pro 12+512 屏幕碎了",
"MacBook Air M2 8+256 九成新". `parse_description` reads device type, brand,
model, storage, RAM, condition, function status, repair history and purchase
channel from Chinese, English or mixed text and maps each onto the value the
platform (`clients.aihuishou`) expects. It never guesses a required field: what
the text does not say stays `None` and `ParsedDevice.missing()` names it, so the
bot asks with buttons (`ParsedDevice.options`) instead.

The catalogue (`data/devices.json`) lists phones, tablets, laptops and smartwatches
(智能手表: a case size or GPS / 蜂窝 is read as nothing, storage is never asked) of the major
brands sold in China with each model's storage (and RAM) options, in the
platform's spelling. Model names are exactly the names the platform prices.

Reading rules worth knowing:
- Model names are matched on a compact form of the text (NFKC, lower case, spaces
  and `-_()` dropped, except that a separator between two digits is kept), so
  `iphone14pro`, `iPhone 14 Pro` and `苹果14pro` are the same. Short spellings
  (`14pm`) count only next to their brand (`苹果14pm`). A spelling that stops
  half-way (`iPhone 14 P`) or several models in one text leave the model ambiguous.
  A brand without a model offers that brand's models as the ambiguous candidates.
- `12+512` is RAM + storage; `1T`/`1TB` is 1TB. A size with a unit but no label
  is RAM up to 48 GB and storage from 64 GB; `运存`/`RAM` mark RAM, `存储`/`ROM`/
  `硬盘` mark storage, `内存` goes by size (phones say 内存 for storage). A bare
  64/128/256/512 counts as storage when nothing else does. Storage (and RAM)
  must be one of the model's options; otherwise the options become the ambiguous
  candidates.
- Condition words (全新, 99新, 95新, 9成新, 九成新, 八成新, like new, ...) map onto
  the platform's six grades; two different grades in one text are ambiguous.
- Function status: the most serious fault named (屏幕碎了 → 屏幕损坏, 面容坏了 →
  面容/指纹故障, 进过水 → 进水, ...); negated mentions (无进水, 没碎) do not count.
  A battery health below `BATTERY_WORN_BELOW` per cent (电池87% is fine, 电池82%
  is not) counts as 电池老化. Without a fault the status is 正常 only when the
  text says so (功能正常, 无拆修, 完美, works perfectly); a healthy battery alone
  does not say it.

Everything is compiled once per catalogue (one trie-shaped regex per alias set, one
regex of all keywords), so parsing costs tens of microseconds.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from clients.aihuishou import (
    CONDITIONS,
    DEVICE_TYPES,
    FUNCTION_STATUSES,
    KIND_TYPES,
    RAM_REQUIRED_TYPES,
    SIZELESS_TYPES,
    WATCH,
)
from clients.links import has_link
from devices import records
from devices.records import ASK_ORDER, RAM_CHOICES, STORAGE_CHOICES, ParsedDevice

DATA_PATH = Path(__file__).parent / "data" / "devices.json"

#: battery health (per cent) below which a battery counts as worn (电池老化). Phones are
#: serviced at 80 %; the recycler already marks the battery down from 85 % on.
BATTERY_WORN_BELOW = 85
NORMAL = "正常"
#: more severe repairs win when a text names several
_REPAIR_SEVERITY = {"无维修": 0, "更换过电池": 1, "更换过屏幕": 2, "主板维修": 3}

RAM_SIZES = frozenset({2, 3, 4, 6, 8, 12, 16, 18, 24, 32, 36, 48, 64, 96, 128})
#: phone and tablet sizes, and the SSD sizes older laptops were sold with (120G固态)
STORAGE_SIZES = frozenset({8, 16, 32, 64, 120, 128, 180, 240, 256, 480, 500, 512, 1024, 2048, 4096})
RAM_GB_UP_TO = 48
#: "4G" without a label is the mobile network (2G-5G), not memory
_NETWORK_GENERATIONS = frozenset({2, 3, 4, 5})
#: words that make a different model when they follow a model's name (iPhone 12 mini)
_VARIANT_WORDS = (
    "pro",
    "max",
    "plus",
    "mini",
    "ultra",
    "lite",
    "fold",
    "flip",
    "neo",
    "rs",
    "pocket",
)
#: one-letter variant codes that end a word (小米13u is a 小米 13 Ultra)
_VARIANT_LETTERS = ("u",)


# -- the catalogue ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Brand:
    name: str  # the platform's name: 苹果, 华为, OPPO, ...
    english: str
    aliases: tuple[str, ...]  # names of the brand, also put in front of model spellings
    lines: tuple[str, ...]  # product lines that name the brand (iphone, thinkpad)


@dataclass(frozen=True, slots=True)
class Model:
    brand: str
    device_type: str  # 手机 / 平板 / 笔记本 / 智能手表
    model: str  # the platform's model name: iPhone 14 Pro
    aliases: tuple[str, ...]
    short_aliases: tuple[str, ...]
    storage: tuple[str, ...]  # 128GB, 256GB, 1TB
    ram: tuple[str, ...] = ()
    #: the family it belongs to (MacBook Pro), whose models are told apart by their facets
    family: str | None = None
    #: what tells it from its family: size (`14`), chip (`m1max`, `intel`), year (`2021`)
    facets: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def name(self) -> str:
        return self.model

    @property
    def needs_ram(self) -> bool:
        return self.device_type in RAM_REQUIRED_TYPES

    def contradicts(self, stated: dict[str, set[str]]) -> bool:
        """Whether a facet the text states rules this model out (an M1 text, an M2 model)."""
        return any(
            name in stated and not stated[name] & set(values) for name, values in self.facets
        )


@dataclass(frozen=True, slots=True)
class Family:
    """Models of one line told apart by size, chip and year (`2016 款 MacBook Pro 15 寸`).

    The catalogue lists every model of a family, so when the facets a text states leave
    one of them, that one is meant; several are asked about.
    """

    name: str
    brand: str
    device_type: str
    words: tuple[str, ...]


#: suffixes that follow a generation number in any series (compact spelling -> name part)
_SUFFIXES = {
    "promax": " Pro Max",
    "pro+": " Pro+",
    "pro": " Pro",
    "max": " Max",
    "plus": " Plus",
    "+": "+",
    "加": "+",
    "mini": " mini",
    "ultra": " Ultra",
    "lite": " Lite",
    "se": " SE",
    "rs": " RS",
    "neo": " Neo",
    "turbo": " Turbo",
    "青春版": " 青春版",
    "至臻版": " 至臻版",
}
#: generation words written in several ways (compact -> the platform's spelling)
_GENERATION_WORDS = {"zfold": "Z Fold", "zflip": "Z Flip", "fold": "Z Fold", "flip": "Z Flip"}
#: what may not follow a generation number: more digits, a size, a grade, a price, a
#: watch case (苹果手表42mm)
_GENERATION_END = re.compile(
    r"[\d%.]|\+\d|成|新|g(?:b|wi-?fi|wlan)?(?![a-z])|tb?(?![a-z])|元|块|mah|hz|mm|毫米", re.ASCII
)
_GENERATION_PREFIXES = tuple(_GENERATION_WORDS)
_FIVE_G = re.compile(r"\|?5g(?![a-z])")
_LETTERS = re.compile(r"[a-z]*")
#: shapes read so far, by name (bounded: the names a series can spell are few)
_SHAPE_MEMORY = 4096


@dataclass(frozen=True, slots=True)
class Series:
    """A product line recognised from its shape: a series word, a generation, suffixes.

    `name` holds `{}` where the generation goes (`iPhone {}`); `generation` is a plain
    regex of the generation forms (`\\d{1,2}[se]?|x[rs]?|se|air`), matched right after
    the word; `suffixes` adds series-only suffix spellings (`p` for Plus on iPhones).
    """

    brand: str
    device_type: str
    words: tuple[str, ...]
    name: str
    generation: str  # a regex, matched right after a series word
    suffixes: re.Pattern[str]
    suffix_names: dict[str, str]
    lower_tail: bool = False  # iPhone 6s, 16e keep their letter lower case
    #: the series' own generation words (compact -> name part, tried in order; `""` is a
    #: bare number): Apple Watch s10 / series10 / 10 -> Series 10
    generation_words: dict[str, str] = field(default_factory=dict)
    #: generations sold as a 4G and a 5G model (Mate 30 Pro, Mate 30 Pro 5G): a `5g` right
    #: after the name is part of it
    network: re.Pattern[str] | None = None

    def read(self, flat: str, start: int, end: int) -> tuple[str, int] | None:
        """The model name whose generation is `flat[start:end]`, and where the name ends."""
        generation = flat[start:end]
        # a generation ending in a digit must end the number (iphone12 is not iphone128)
        if generation[-1].isdigit() and _GENERATION_END.match(flat, end):
            return None
        name = self.name.format(self._generation_text(generation))
        while suffix := self.suffixes.match(flat, end):
            name, end = name + self.suffix_names[suffix.group()], suffix.end()
        run = _LETTERS.match(flat, end).group()  # type: ignore[union-attr]  # matches "" too: never None
        if run and any(word.startswith(run) for word in self.suffix_names):
            return None  # a half-written suffix is not this shape (iphone14p)
        if self.network is not None and self.network.fullmatch(generation):
            network = _FIVE_G.match(flat, end)
            if network is not None:  # mate30pro5g is the Mate 30 Pro 5G, not the 4G one
                return name + " 5G", network.end()
        return name, end

    def _generation_text(self, generation: str) -> str:
        if "|" in generation:  # note9|5g: the network names the model (Note 9 5G)
            return " ".join(self._generation_text(part) for part in generation.split("|"))
        for word, text in self.generation_words.items():
            if word and generation.startswith(word):
                return (text + generation[len(word) :].upper()).strip()
        if generation[0].isdigit() and "" in self.generation_words:
            return self.generation_words[""] + generation.upper()
        if generation.startswith(_GENERATION_PREFIXES):
            for word, text in _GENERATION_WORDS.items():
                if generation.startswith(word):
                    return text + generation[len(word) :]
        letters = _LETTERS.match(generation).group()  # type: ignore[union-attr]  # matches "" too
        rest = generation[len(letters) :]
        tail = rest if self.lower_tail else rest.upper()
        if len(letters) > 2:  # note13 -> Note 13, air -> Air, note11t -> Note 11T
            return " ".join(part for part in (letters.title(), tail) if part)
        return letters.upper() + tail


#: signs NFKC leaves alone that sellers write for ASCII ones (8➕256)
_ASCII_FORMS = str.maketrans({"➕": "+", "✚": "+"})


def matching_form(text: str) -> str:
    """Full-width to ASCII (NFKC) and lower case: the form every pattern here reads."""
    return unicodedata.normalize("NFKC", text).translate(_ASCII_FORMS).lower()


_SEPARATORS = r"[\s\-_()\[\]【】,，、·]+"
_DIGIT_GAP = re.compile(rf"(?<=[\d+]){_SEPARATORS}(?=\d)")
_GAP = re.compile(_SEPARATORS)


def compact(normal: str) -> str:
    """A normalised text without separators, except `|` where one stood between two digits
    or after a `+` (S8+ 128G: the `+` names the model, not a size)."""
    return _GAP.sub("", _DIGIT_GAP.sub("|", normal))


def _trie_regex(
    aliases: Iterable[str], guard: Callable[[str], str], flags: int = 0
) -> re.Pattern[str]:
    """One regex matching any alias, longest first, shaped as a trie so it stays fast.

    `guard(alias)` is put where the alias ends (a lookahead). Every branch starts with
    a plain character, so the engine skips positions that start no alias.
    """
    trie: dict[str, Any] = {}  # char -> child node; "" -> the guard where an alias ends
    for alias in aliases:
        node = trie
        for char in alias:
            node = node.setdefault(char, {})
        node[""] = guard(alias)

    def build(node: dict[str, Any]) -> str:
        branches = [
            re.escape(char) + build(child)
            for char, child in sorted((k, v) for k, v in node.items() if k)
        ]
        if "" in node:
            branches.append(node[""])  # ending here is tried last: longer aliases win
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return re.compile(build(trie) if trie else r"(?!x)x", flags)


def _clear_start(text: str, start: int) -> bool:
    """Whether a match may start here: a number not inside a number, a word not inside a word.

    Checked after matching rather than as a lookbehind in the regex, because a regex whose
    branches start with a lookbehind cannot skip positions quickly.
    """
    if start == 0:
        return True
    first, before = text[start], text[start - 1]
    if first.isdigit():
        return not (before.isdigit() or before == ".")
    if first.isascii() and first.isalpha():
        return not (before.isascii() and before.isalnum())
    return True


def _model_guard(alias: str) -> str:
    # iphone12 must not match iphone128; 荣耀90 must not read "90新" (a condition) as a
    # model; findx 8G is a Find X with 8 GB, not a Find X8 (spaces are gone by now)
    # (苹果11寸 is an 11-inch iPad, not an iPhone 11)
    return r"(?![\d%]|成|新|gb?(?![a-z])|寸|英寸|吋)" if alias[-1].isdigit() else ""


def _short_guard(alias: str) -> str:
    # bare numbers next to a brand: "苹果 14" yes, "苹果 128G" / "12+256" / "2025年12月" / "12k" no
    return r"(?![\d%+.]|成|新|g|t|k|w|年|月|日|号|寸|mm)" if alias[-1].isdigit() else ""


def _word_guard(word: str) -> str:
    # ASCII names need word edges (mi is not in xiaomi or mini)
    return r"(?![a-z])" if word.isascii() else ""


class Catalogue:
    """The models the bot can describe, with the lookups the parser needs (built once)."""

    def __init__(
        self,
        brands: Iterable[Brand],
        models: Iterable[Model],
        series: Iterable[Series] = (),
        families: Iterable[Family] = (),
    ) -> None:
        self._brands: dict[str, Brand] = {b.name: b for b in brands}
        self._families: dict[str, Family] = {f.name: f for f in families}
        self._series: dict[str, Series] = {}
        self._shapes: dict[str, Model] = {}
        for line in series:
            if line.brand not in self._brands:
                raise ValueError(f"series {line.name}: unknown brand {line.brand}")
            for word in line.words:
                if word in self._series:
                    raise ValueError(f"series word listed twice: {word}")
                self._series[word] = line
        self._models: dict[str, Model] = {}
        self._by_brand: dict[str, list[Model]] = {name: [] for name in self._brands}
        for model in models:
            if model.model in self._models:
                raise ValueError(f"model listed twice: {model.model}")
            if model.brand not in self._brands:
                raise ValueError(f"{model.model}: unknown brand {model.brand}")
            if model.family is not None and model.family not in self._families:
                raise ValueError(f"{model.model}: unknown family {model.family}")
            self._models[model.model] = model
            self._by_brand[model.brand].append(model)
        self._build_lookups()

    # -- public lookups ----------------------------------------------------------------

    def brands(self) -> list[str]:
        return list(self._brands)

    def brand(self, name: str) -> Brand | None:
        return self._brands.get(name)

    def models(self, brand: str | None = None, device_type: str | None = None) -> list[Model]:
        chosen = self._by_brand.get(brand, []) if brand else list(self._models.values())
        return [m for m in chosen if device_type is None or m.device_type == device_type]

    def offered(self, brand: str | None, device_type: str | None) -> list[Model]:
        """The models to offer as choices: of the type when it is known, else every type
        but watches, cameras and headphones (their texts name the kind, by a word or by a
        model's shape), unless the brand makes nothing else (佳能)."""
        chosen = self.models(brand, device_type)
        if device_type is None:
            return [m for m in chosen if m.device_type not in KIND_TYPES] or chosen
        return chosen

    def family_models(self, name: str) -> list[Model]:
        return [m for m in self._models.values() if m.family == name]

    def families_in(self, flat: str) -> list[Family]:
        """The families a compact text names (macbookpro, mbp), in order."""
        found: list[Family] = []
        for m in self._family_re.finditer(flat):
            family = self._families[self._family_words[m.group()]]
            if _clear_start(flat, m.start()) and family not in found:
                found.append(family)
        return found

    def get(self, model: str) -> Model | None:
        """A model by its platform name (`iPhone 14 Pro`), or by any of its spellings."""
        found = self._models.get(model)
        if found is not None:
            return found
        matches = self._global_aliases.get(compact(matching_form(model)), ())
        return matches[0] if len(matches) == 1 else None

    def spells_several(self, name: str) -> bool:
        """Whether a name read from a shape is a spelling of several catalogue models."""
        return (
            name not in self._models
            and len(self._global_aliases.get(compact(matching_form(name)), ())) > 1
        )

    def _glued_after(self, flat: str, end: int, brands: set[str]) -> tuple[Model, ...]:
        """Models of `brands` written right after another one with no space (苹果7P8PX)."""
        if end >= len(flat) or not flat[end].isdigit():
            return ()
        glued: list[Model] = []
        for brand in brands:
            pattern = self._short_re.get(brand)
            m = pattern.match(flat, end) if pattern else None
            if m is not None:
                glued.extend(self._short_aliases[brand][m.group()])
        return tuple(glued)

    def _shape(self, line: Series, name: str) -> Model:
        """The model a shape names: the catalogue's (P70 Pro -> Pura 70 Pro), else a new one."""
        model = self._shapes.get(name)
        if model is None:
            model = self._models.get(name)
            if model is None:
                spelled = self._global_aliases.get(compact(matching_form(name)), ())
                model = spelled[0] if len(spelled) == 1 else None
            model = model or Model(line.brand, line.device_type, name, (), (), ())
            if len(self._shapes) >= _SHAPE_MEMORY:
                self._shapes.clear()
            self._shapes[name] = model
        return model

    def resolve(self, model: str) -> Model | None:
        """A model by name: the catalogue's, else one read from its shape (`iPhone 6 Plus`)."""
        found = self.get(model)
        if found is not None:
            return found
        shapes = self.shapes_in(compact(matching_form(model)))
        return shapes[0] if len(shapes) == 1 else None

    def shapes_in(self, flat: str) -> list[Model]:
        """The models a compact text names by shape (series word, generation, suffixes).

        Each shape is the catalogue's model when it lists that name, else a model the
        catalogue does not know (no storage options): the platform decides whether it
        records it.
        """
        found: list[Model] = []
        position = 0
        # one regex finds a series word and its generation (the group named after the word)
        while m := self._series_re.search(flat, position):
            position = m.start() + 1
            if not _clear_start(flat, m.start()) or _traded_for(flat, m.start()):
                continue
            line = self._series[self._series_words[m.lastgroup or ""]]
            read = line.read(flat, m.start(m.lastgroup or 0), m.end())
            if read is not None:
                model = self._shape(line, read[0])
                if model not in found:
                    found.append(model)
                position = read[1]
        return found

    def __iter__(self) -> Iterator[Model]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def closest(self, text: str, n: int = 3, device_type: str | None = None) -> list[Model]:
        """The `n` models whose spellings look most like `text` (for 'did you mean' buttons),
        only of `device_type` when it is given (a watch is offered no phones)."""
        target = compact(matching_form(text))
        if not target:
            return []
        scored: list[tuple[float, int, Model]] = []
        for index, model in enumerate(self._models.values()):
            if device_type is not None and model.device_type != device_type:
                continue
            aliases = self._own_aliases[model.model]
            best = max(_similarity(target, alias) for alias in aliases)
            if any(alias.startswith(target) for alias in aliases):
                best += 0.1  # the same generation first: Mate 60 -> Mate 60 Pro before Mate 70
            scored.append((best, -index, model))
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [model for score, _, model in scored[:n] if score > 0.4]

    # -- reading (the texts are already normalised, see `matching_form` and `compact`) -----------

    def brands_in(self, normal: str) -> list[str]:
        """The brands a normalised text names, in order."""
        brands: list[str] = []
        for m in self._brand_re.finditer(normal):
            if _clear_start(normal, m.start()):
                brand = self._brand_words[m.group()]
                if brand not in brands:
                    brands.append(brand)
        return brands

    def models_in(
        self, flat: str, brands: list[str], device_type: str | None
    ) -> tuple[list[Model], tuple[Model, ...]]:
        """(models named, candidates of a half-written name) in a compact text.

        Short spellings are read only for `brands`, and only when no full spelling matched.
        """
        found: list[Model] = []
        partial: tuple[Model, ...] = ()
        for m in self._global_re.finditer(flat):
            if _traded_for(flat, m.start()):
                continue
            models = self._global_aliases[m.group()]
            models += self._glued_after(flat, m.end(), {model.brand for model in models})
            # A spelling that goes on in letters may be half of a longer name (iphone14p).
            end = m.end()
            if m.group()[-1].isalpha() and flat.startswith(("+", "加"), end):
                partial = models  # mate70pro+ is not a Mate 70 Pro
                continue
            if m.group()[-1].isalpha() and _YEAR.match(flat, end):
                partial = models  # x1carbon2018: a year names another generation
                continue
            tail = end
            while tail < len(flat) and "a" <= flat[tail] <= "z":
                tail += 1
            if tail > end:
                longer = flat[m.start() : tail]
                if longer not in self._global_aliases and longer in self._prefixes:
                    partial = tuple(self._models[n] for n in self._prefixes[longer])
                    continue
                if flat.startswith(_VARIANT_WORDS, end) or flat[end:tail] in _VARIANT_LETTERS:
                    # iphone12mini is not an iPhone 12: a variant the catalogue does not list
                    partial = models
                    continue
                # a sibling code glued on (iphonexxr: iPhone X and iPhone XR)
                models += self._global_aliases.get(m.group()[:-1] + flat[end:tail], ())
            for model in models:
                if model not in found:
                    found.append(model)
        if not found and not partial:
            for brand in brands:
                pattern = self._short_re.get(brand)
                if pattern is None:
                    continue
                for m in pattern.finditer(flat):
                    start = m.start()
                    # a short spelling stands on its own: not glued to a word (macbookair13m2)
                    if start and (flat[start - 1].isascii() and flat[start - 1].isalnum()):
                        continue
                    for model in self._short_aliases[brand][m.group()]:
                        if model not in found and device_type in (None, model.device_type):
                            found.append(model)
        if device_type and len(found) > 1:
            typed = [m for m in found if m.device_type == device_type]
            found = typed or found
        return found, partial

    # -- building ----------------------------------------------------------------------

    def _build_lookups(self) -> None:
        global_aliases: dict[str, list[Model]] = {}
        short_aliases: dict[str, dict[str, list[Model]]] = {b: {} for b in self._brands}
        self._own_aliases: dict[str, tuple[str, ...]] = {}
        for model in self._models.values():
            brand = self._brands[model.brand]
            own = [
                compact(matching_form(model.model)),
                *(compact(matching_form(a)) for a in model.aliases),
            ]
            shorts = [compact(matching_form(a)) for a in model.short_aliases]
            self._own_aliases[model.model] = tuple(dict.fromkeys(own))
            spellings = set(own)
            for alias in (*own, *shorts):
                for name in brand.aliases:
                    if not alias.startswith(name):
                        spellings.add(name + alias)
            for spelling in spellings:
                bucket = global_aliases.setdefault(spelling, [])
                if model not in bucket:
                    bucket.append(model)
            for short in shorts:
                short_aliases[model.brand].setdefault(short, []).append(model)

        self._global_aliases = {k: tuple(v) for k, v in global_aliases.items()}
        self._global_re = _trie_regex(self._global_aliases, _model_guard)
        prefixes: dict[str, set[str]] = {}
        for alias, models in self._global_aliases.items():
            for end in range(3, len(alias)):
                prefixes.setdefault(alias[:end], set()).update(m.model for m in models)
        self._prefixes = {k: tuple(m for m in self._models if m in v) for k, v in prefixes.items()}
        self._short_aliases = {
            b: {k: tuple(v) for k, v in table.items()} for b, table in short_aliases.items()
        }
        self._short_re = {
            b: _trie_regex(table, _short_guard) for b, table in self._short_aliases.items() if table
        }
        brand_words: dict[str, str] = {}
        for brand in self._brands.values():
            for word in (*brand.aliases, *brand.lines, matching_form(brand.name)):
                brand_words[matching_form(word)] = brand.name
        self._brand_words = brand_words
        self._brand_re = _trie_regex(brand_words, _word_guard)
        groups = {word: f"w{index}" for index, word in enumerate(self._series)}
        self._series_words = {group: word for word, group in groups.items()}
        self._series_re = _trie_regex(
            self._series,
            lambda word: f"(?P<{groups[word]}>{self._series[word].generation})",
            re.ASCII,
        )
        self._family_words = {
            compact(matching_form(w)): f.name for f in self._families.values() for w in f.words
        }
        self._family_re = _trie_regex(self._family_words, lambda word: "")


#: a model year right after a name (x1carbon|2018)
_YEAR = re.compile(r"\|?20[0-3]\d")


def _traded_for(flat: str, start: int) -> bool:
    """Whether a model named here is the one the seller moved to (换iPhone12mini后出)."""
    return flat.endswith(("换", "换了", "换成", "换新"), 0, start)


def _similarity(target: str, alias: str) -> float:
    """How well `alias` appears in `target`: the better of whole-text and best-window ratios."""
    matcher = difflib.SequenceMatcher(None, alias, target, autojunk=False)
    best = matcher.ratio()
    for block in matcher.get_matching_blocks():
        if block.size == 0:
            continue
        start = max(0, block.b - block.a)
        window = target[start : start + len(alias)]
        best = max(best, difflib.SequenceMatcher(None, alias, window, autojunk=False).ratio())
    return best


def _load(path: Path) -> Catalogue:
    data = json.loads(path.read_text(encoding="utf-8"))
    brands = [
        Brand(
            b["name"],
            b.get("english", b["name"]),
            tuple(b.get("aliases", ())),
            tuple(b.get("lines", ())),
        )
        for b in data["brands"]
    ]
    models = [
        Model(
            brand=m["brand"],
            device_type=m["device_type"],
            model=m["model"],
            aliases=tuple(m.get("aliases", ())),
            short_aliases=tuple(m.get("short_aliases", ())),
            storage=tuple(m["storage"]),
            ram=tuple(m.get("ram", ())),
            family=m.get("family"),
            facets=tuple((k, tuple(v)) for k, v in m.get("facets", {}).items()),
        )
        for m in data["models"]
    ]
    families = [
        Family(f["name"], f["brand"], f["device_type"], tuple(f["words"]))
        for f in data.get("families", ())
    ]
    for model in models:
        if model.device_type not in DEVICE_TYPES:
            raise ValueError(f"{model.model}: unknown device type {model.device_type}")
    return Catalogue(brands, models, [_series(row) for row in data.get("series", ())], families)


def _suffix_guard(suffix: str) -> str:
    # a bare + before a number joins sizes (iPhoneX+256g), it is no Plus; 加 before a word
    # joins things (550D加镜头: with a lens)
    if suffix == "加":
        return r"(?![\u4e00-\u9fff])"
    return r"(?!\d)" if suffix == "+" else ""


def _series(row: dict[str, Any]) -> Series:
    if row["device_type"] not in DEVICE_TYPES:
        raise ValueError(f"series {row['name']}: unknown device type {row['device_type']}")
    names = {**_SUFFIXES, **{k: " " + v for k, v in row.get("suffixes", {}).items()}}
    return Series(
        brand=row["brand"],
        device_type=row["device_type"],
        words=tuple(compact(matching_form(w)) for w in row["words"]),
        name=row["name"],
        generation=f"(?:{row['generation']})",
        suffixes=_trie_regex(names, _suffix_guard),
        suffix_names=names,
        lower_tail=row.get("lower_tail", False),
        generation_words=row.get("generation_words", {}),
        network=re.compile(row["network"]) if "network" in row else None,
    )


@lru_cache(maxsize=4)
def load_catalogue(path: Path = DATA_PATH) -> Catalogue:
    """The catalogue in `data/devices.json`, loaded and compiled once."""
    return _load(path)


records.default_catalogue = load_catalogue  # what ParsedDevice.options() reads without one


# -- keywords -----------------------------------------------------------------------------

#: words that, just before a keyword, cancel it: 无进水, 没进过水, 屏幕没碎, no water damage
_NEGATIONS = ("无", "没", "未", "不", "非", "没有", "从未", "no ", "not ", "never ")


@dataclass(frozen=True, slots=True)
class _Keyword:
    kind: str  # condition / fault / works / repair / channel / type
    value: str  # the platform's value it stands for
    #: regex alternatives; each must begin with a literal character
    alternatives: tuple[str, ...]
    #: the match does not count right after one of these
    not_after: tuple[str, ...] = ()


#: the keyword table: which words mean which grade, fault, repair, channel or device type
KEYWORDS_PATH = Path(__file__).parent / "data" / "keywords.json"


@lru_cache(maxsize=1)
def _keywords() -> tuple[_Keyword, ...]:
    """The keyword table (`data/keywords.json`), read on the first description."""
    rows = json.loads(KEYWORDS_PATH.read_text(encoding="utf-8"))["keywords"]
    return tuple(
        _Keyword(r["kind"], r["value"], tuple(r["alternatives"]), tuple(r.get("not_after", ())))
        for r in rows
    )


@lru_cache(maxsize=1)
def _keyword_regex() -> tuple[re.Pattern[str], dict[str, _Keyword]]:
    """All keywords in one regex whose every branch starts with a plain character.

    That shape lets the regex engine skip every position whose character starts no
    keyword and try only the branches that start with it (they are grouped by that
    character), which is what makes this fast; the empty named group at the end of a branch says which keyword matched.
    re.ASCII makes `\\b` an edge between ASCII letters and Chinese characters.
    """
    by_first: dict[str, list[str]] = {}  # branches grouped by their first character
    rows: dict[str, _Keyword] = {}
    for row in _keywords():
        for alternative in row.alternatives:
            name = f"k{len(rows)}"
            rows[name] = row
            first, rest = alternative[0], alternative[1:]
            if first == "\\" or rest[:1] in ("?", "*", "+", "{"):
                first, rest = "", alternative  # not a plain first character: its own branch
            by_first.setdefault(first, []).append(f"{rest}(?P<{name}>)")
    branches = [
        f"{first}(?:{'|'.join(rests)})" if first else "|".join(rests)
        for first, rests in by_first.items()
    ]
    return re.compile("|".join(branches), re.ASCII), rows


_SPACES = re.compile(r"\s+")

_RAM_AND_STORAGE = re.compile(
    r"(?<![\d.])(\d{1,3}) ?(?:gb?)? ?(?:运行内存|运存|内存|ram)? ?(?:\+|\*|(?<=g)/|(?<=gb)/) ?"
    r"(\d{1,4}) ?(gb?|tb?)?(?![\d.])",
    re.ASCII,
)
_SIZE = re.compile(r"(?<![\d.+])(\d{1,4}) ?(gb?|tb?)(?![a-z])", re.ASCII)
_BARE_STORAGE = re.compile(
    r"(?<![\d.+%/])(64|128|256|512)(?![\d.%+/]| ?(?:元|块|rmb|yuan|mah|w\b|hz|bit|成|新|分))",
    re.ASCII,
)
_RAM_WORDS = ("运存", "运行内存", "ram")
_STORAGE_WORDS = ("存储", "rom", "硬盘", "固态", "ssd", "容量", "机身", "版")  # 8G版
_BATTERY = re.compile(
    r"(?:电池(?:健康度?|效率|寿命|容量|最大容量)?|(?<!充)电(?=\d{2}(?![\dw]))|健康度|最大容量"
    r"|\bbattery(?: health)?|\bbh)"
    r" ?(?:[:：]|是|为|还有|剩)? ?(\d{2,3}) ?%?"
    r"|(?<![\d.])(\d{2,3}) ?% ?(?:的)?(?:电池|健康|battery)",
    re.ASCII,
)
#: a listing attribute line: a short label, then a colon (品牌：, 存储容量:, Model:)
_KEY_VALUE = re.compile(r"[^\s:：]{1,10} ?[:：]")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)、]|\(\d{1,2}\))\s*")


def _size_text(number: int, unit: str) -> str | None:
    """A storage size in the platform's spelling (`256GB`, `1TB`), or None when implausible."""
    if unit.startswith("t"):
        return f"{number}TB" if number in (1, 2, 4) else None
    if number in (1024, 2048, 4096):
        return f"{number // 1024}TB"
    return f"{number}GB" if number in STORAGE_SIZES else None


def _ram_text(number: int) -> str | None:
    return f"{number}GB" if number in RAM_SIZES else None


# -- parsing ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Sizes:
    storage: list[str] = field(default_factory=list)
    ram: list[str] = field(default_factory=list)

    def add_storage(self, value: str | None) -> None:
        if value and value not in self.storage:
            self.storage.append(value)

    def add_ram(self, value: str | None) -> None:
        if value and value not in self.ram:
            self.ram.append(value)


def _read_sizes(normal: str) -> _Sizes:
    sizes = _Sizes()
    taken: list[tuple[int, int]] = []
    unlabelled: list[tuple[int, str]] = []  # RAM-sized numbers with no label
    for m in _RAM_AND_STORAGE.finditer(normal):
        ram = _ram_text(int(m.group(1)))
        number, unit = int(m.group(2)), (m.group(3) or "")
        if not unit and number in (1, 2):
            unit = "t"  # 16+1: a terabyte
        storage = _size_text(number, unit or "g")
        if ram and storage:
            sizes.add_ram(ram)
            sizes.add_storage(storage)
            taken.append(m.span())
    for m in _SIZE.finditer(normal):
        if any(a <= m.start() < b for a, b in taken):
            continue
        number, unit = int(m.group(1)), m.group(2)
        if unit.startswith("t"):
            sizes.add_storage(_size_text(number, unit))
            continue
        # The label next to the number decides: one right after it (2g内存+16g存储), then
        # the one before it (内存16G 存储512G), then one a little after.
        label = _size_label_right_after(normal, m.end())
        label = label or _size_label(normal[max(0, m.start() - 5) : m.start()])
        label = label or _size_label(normal[m.end() : m.end() + 5])
        if label is None and unit == "g" and number in _NETWORK_GENERATIONS:
            continue  # 全网通4G, 三网4g: the network, not a size
        if label == "ram" and number <= RAM_GB_UP_TO:  # 运存8-128g: the 128 is no RAM
            sizes.add_ram(_ram_text(number))
        elif label != "storage" and number <= RAM_GB_UP_TO:
            unlabelled.append((number, unit))
        else:
            sizes.add_storage(_size_text(number, unit))
    if sizes.ram and not sizes.storage:  # 4G运行内存 names the RAM: a bare 32G is storage
        for number, unit in unlabelled:
            sizes.add_storage(_size_text(number, unit))
    else:
        for number, _ in unlabelled:
            sizes.add_ram(_ram_text(number))
    if not sizes.storage:
        for m in _BARE_STORAGE.finditer(normal):
            sizes.add_storage(f"{m.group(1)}GB")
    return sizes


def _small_storage(sizes: _Sizes, model: Model | None) -> None:
    """A phone or tablet 'RAM' size that is one of its storage sizes and none of its RAM
    sizes is its storage (iPhone 6 16G, vivo Y66 32G)."""
    storage = (model.storage if model else ()) or STORAGE_CHOICES
    if len(sizes.ram) == 1 and sizes.ram[0] not in (model.ram if model else ()):
        if sizes.ram[0] in storage:
            sizes.storage, sizes.ram = sizes.ram, []


def _size_label_right_after(normal: str, end: int) -> str | None:
    """The label written right after a size (16g存储, 4g运存, 8gb 内存), or None.

    Only 内存 may stand after a space: in 内存16g 存储512g the 存储 names the 512g."""
    if normal.startswith(_RAM_WORDS, end):
        return "ram"
    if normal.startswith(_STORAGE_WORDS, end):
        return "storage"
    return "size" if normal.startswith(("内存", " 内存"), end) else None


def _size_label(window: str) -> str | None:
    """`ram`, `storage`, `size` (内存: decided by the size) or None for the words in a window."""
    if any(w in window for w in _RAM_WORDS):
        return "ram"
    if any(w in window for w in _STORAGE_WORDS):
        return "storage"
    return "size" if "内存" in window else None


def _battery(normal: str) -> int | None:
    for m in _BATTERY.finditer(normal):
        value = int(m.group(1) or m.group(2))
        if 50 <= value <= 100:
            return value
    return None


def parse_description(text: str, catalogue: Catalogue | None = None) -> ParsedDevice:
    """Read one device description (see the module docstring for the rules)."""
    catalogue = catalogue or load_catalogue()
    normal = _SPACES.sub(" ", matching_form(text)).strip()
    flat = compact(normal)
    ambiguous: dict[str, tuple[str, ...]] = {}

    words: dict[str, list[str]] = {}
    keyword_re, keyword_of = _keyword_regex()
    for m in keyword_re.finditer(normal):
        row = keyword_of[m.lastgroup or ""]
        start = m.start()
        if not _clear_start(normal, start) or any(
            normal.endswith(word, 0, start) for word in row.not_after
        ):
            continue
        bucket = words.setdefault(row.kind, [])
        if row.value not in bucket:
            bucket.append(row.value)
        if row.kind == "repair" and row.value == "无维修" and "拆" in m.group():
            words.setdefault("works", [NORMAL])  # 无拆无修: never opened, works as sold

    typed = words.get("type", [])
    device_type = typed[0] if len(typed) == 1 else None

    brands = catalogue.brands_in(normal)
    models, partial = catalogue.models_in(flat, brands, device_type)
    # and every model named by its shape (iPhone 6 Plus), of the type the text names; a
    # watch word with no watch model beside it speaks of a gift (vivo Y66L 送手表)
    shapes = [s for s in catalogue.shapes_in(flat) if s not in models]
    # a shape that spells several catalogue models (ipadpro12.9: M1 and M2) adds nothing
    shapes = [s for s in shapes if not catalogue.spells_several(s.model)]
    typed_shapes = [s for s in shapes if device_type in (None, s.device_type)]
    models += typed_shapes or ([] if models or device_type != WATCH else shapes)
    models, partial = _fit(catalogue, normal, flat, brands, device_type, models, partial)
    model: Model | None = None
    brand_name: str | None = None
    if len(models) == 1:
        model = models[0]
    elif models:
        ambiguous["model"] = tuple(m.model for m in models)
    elif partial:
        ambiguous["model"] = tuple(m.model for m in partial)
    if model is not None:
        brand_name, device_type = model.brand, model.device_type
    else:
        candidates = models or list(partial)  # shapes too: they are in no catalogue
        candidate_brands = list(dict.fromkeys(m.brand for m in candidates))
        if len(candidate_brands) == 1:
            brand_name = candidate_brands[0]
        elif len(brands) == 1:
            brand_name = brands[0]
        elif len(brands) > 1:
            ambiguous["brand"] = tuple(brands)
        candidate_types = list(dict.fromkeys(m.device_type for m in candidates))
        if device_type is None and len(candidate_types) == 1:
            device_type = candidate_types[0]
        if brand_name and "model" not in ambiguous:
            offered = catalogue.offered(brand_name, device_type)
            if offered:
                ambiguous["model"] = tuple(m.model for m in offered)

    sizes = _read_sizes(normal)
    if device_type in SIZELESS_TYPES:
        sizes = _Sizes()  # a camera's 64G is its memory card; headphones have no sizes
    elif device_type == WATCH:
        sizes.ram = []  # a watch states no RAM; 46mm and GPS / 蜂窝 are read as nothing
    elif not sizes.storage and device_type != "笔记本":
        _small_storage(sizes, model)
    storage = _pick("storage", sizes.storage, model.storage if model else None, ambiguous)
    ram: str | None = None
    if device_type == WATCH or device_type in SIZELESS_TYPES:
        pass
    elif model is None or not model.storage:  # no model, or one the catalogue does not list
        ram = sizes.ram[0] if len(sizes.ram) == 1 else None
    elif model.ram:
        if model.needs_ram:
            ram = _pick("ram", sizes.ram, model.ram, ambiguous)
            if ram is None and not sizes.ram and len(model.ram) == 1:
                ram = model.ram[0]  # a laptop sold with one size: known, not guessed
        elif len(sizes.ram) == 1 and sizes.ram[0] in model.ram:
            ram = sizes.ram[0]  # phones: optional, sent only when it is a real option

    conditions = list(words.get("condition", []))
    for m in _GRADE_RANGE.finditer(normal):  # 8-9 成新: either grade, so asked
        for digit in m.groups():
            grade = _GRADE_OF_DIGIT.get(digit, "七成新及以下")
            if grade not in conditions:
                conditions.append(grade)
    condition = conditions[0] if len(conditions) == 1 else None
    if len(conditions) > 1:
        ambiguous["condition"] = tuple(c for c in CONDITIONS if c in conditions)
    elif not conditions and words.get("wear"):
        # 轻微划痕 / 明显磕碰 state no grade: it is asked, the grade they suggest offered first
        suggested = [c for c in CONDITIONS if c in words["wear"]]
        ambiguous["condition"] = (*suggested, *(c for c in CONDITIONS if c not in suggested))

    battery = _battery(normal)
    faults = list(words.get("fault", []))
    if battery is not None and battery < BATTERY_WORN_BELOW and "电池老化" not in faults:
        faults.append("电池老化")
    repairs = words.get("repair", [])
    function_status: str | None = None
    if faults:
        function_status = max(faults, key=FUNCTION_STATUSES.index)
    elif "lock" in words:
        pass  # locked: no status the platform names says it; asked
    elif "works" in words:
        function_status = NORMAL
    repair = max(repairs, key=_REPAIR_SEVERITY.__getitem__) if repairs else None
    channels = words.get("channel", [])

    return ParsedDevice(
        device_type=device_type,
        brand=brand_name,
        model=model.model if model else None,
        storage=storage,
        ram=ram,
        condition=condition,
        function_status=function_status,
        repair_history=repair,
        purchase_channel=channels[0] if channels else None,
        battery_health=battery,
        ambiguous=ambiguous,
    )


#: a range of grades (8-9 成新, 8~9新): two grades
_GRADE_RANGE = re.compile(r"(?<![\d.])([5-9]) ?[-~到至] ?([5-9]) ?(?:成|新)", re.ASCII)
_GRADE_OF_DIGIT = {"9": "九成新", "8": "八成新"}

#: a screen size: 15 寸, 14英寸, 13.3", 16 inch
_SIZE_FACET = re.compile(r"(?<![\d.])(1[0-7](?:\.\d)?) ?(?:寸|英寸|吋|inch|\"|''|”|″)", re.ASCII)
#: a size right after a family word (macbookpro13, mbp14m1max)
_SIZE_AFTER = re.compile(r"\|?(1[0-7](?:\.\d)?)(?![\d.+]|gb?|tb?|%)", re.ASCII)
#: an Apple chip (m1, m1pro, m3max) in the compact text, not inside a number (a7m4 is a
#: camera), and in the spaced text as a word of its own (m1 ipad pro)
_CHIP = re.compile(r"(?<!\d)m([1-5])(pro|max|ultra)?(?![a-z]|\d(?!\d{3}))", re.ASCII)
_CHIP_WORD = re.compile(r"(?<![a-z\d])m([1-5]) ?(pro|max|ultra)?(?![a-z\d])", re.ASCII)
_INTEL = re.compile(
    r"(?<![a-z])i[3579](?![a-z\d])|(?<![a-z])i[3579]-?\d{4}|intel|酷睿|英特尔", re.ASCII
)
#: a model year (2016 款, 2021年款, 21款), not a date of purchase (2023年5月买, 2025-02-05)
_YEAR_FACET = re.compile(
    r"(?<![\d.-])(20[012]\d|(?:1[3-9]|2[0-6])(?= ?(?:款|年款|年(?! ?\d{1,2} ?月))))(?![\d-])"
    r"(?! ?年? ?\d{1,2} ?月| ?年? ?(?:买|购|入|激活|保修|底|初|中|末|的|左右|前|后))",
    re.ASCII,
)


def _stated_facets(normal: str, flat: str, families: list[Family]) -> dict[str, set[str]]:
    """The size, chip and year a text states (see `Family`)."""
    stated: dict[str, set[str]] = {}
    sizes = {m.group(1) for m in _SIZE_FACET.finditer(normal)}
    for family in families:
        for word in family.words:
            at = flat.find(compact(matching_form(word)))
            if at >= 0:
                after = _SIZE_AFTER.match(flat, at + len(compact(matching_form(word))))
                if after is not None:
                    sizes.add(after.group(1))
    if sizes:
        stated["size"] = sizes
    chips = {
        "m" + m.group(1) + (m.group(2) or "")
        for pattern, text in ((_CHIP, flat), (_CHIP_WORD, normal))
        for m in pattern.finditer(text)
    }
    if _INTEL.search(normal):
        chips.add("intel")
    if chips:
        stated["chip"] = chips
    years = {
        m.group(1) if len(m.group(1)) == 4 else "20" + m.group(1)
        for m in _YEAR_FACET.finditer(normal)
    }
    if years:
        stated["year"] = years
    return stated


def _fit(
    catalogue: Catalogue,
    normal: str,
    flat: str,
    brands: list[str],
    device_type: str | None,
    models: list[Model],
    partial: tuple[Model, ...],
) -> tuple[list[Model], tuple[Model, ...]]:
    """The models the text does not contradict, and a family's model its facets name.

    A model whose size, chip or year the text states otherwise is dropped (an `M1 iPad Pro
    12.9` is no M2 model); a camera, headphones or watch of a brand the text does not name,
    or of another kind than the text names, is dropped (三星A7 is no Sony A7). A family
    named without a listed model (2016 款 MacBook Pro 15 寸) gives the family's models that
    fit: one is the model, several are asked about.
    """
    families = catalogue.families_in(flat)
    stated = _stated_facets(normal, flat, families) if families or models or partial else {}
    if stated:
        models = [m for m in models if not m.contradicts(stated)]
        partial = tuple(m for m in partial if not m.contradicts(stated))
    models = [
        m
        for m in models
        if m.device_type not in KIND_TYPES
        or ((not brands or m.brand in brands) and device_type in (None, m.device_type))
    ]
    if families and not models:
        members = [m for f in families for m in catalogue.family_models(f.name)]
        fitting = [m for m in members if not m.contradicts(stated)]
        if stated and len(fitting) == 1:
            return fitting, ()
        return [], tuple(fitting or members)
    return models, partial


def _pick(
    name: str,
    stated: list[str],
    options: tuple[str, ...] | None,
    ambiguous: dict[str, tuple[str, ...]],
) -> str | None:
    """The one stated value that is valid; several or an invalid one go to `ambiguous`."""
    if not options:  # no model yet, or one the catalogue does not list: nothing to check
        if len(stated) > 1:
            ambiguous[name] = tuple(stated)
        return stated[0] if len(stated) == 1 else None
    valid = [v for v in stated if v in options]
    if len(valid) == 1:
        return valid[0]
    if len(valid) > 1:
        ambiguous[name] = tuple(valid)
    elif stated:
        ambiguous[name] = options  # it named a size this model is not sold with
    return None


def looks_like_device(text: str, catalogue: Catalogue | None = None) -> bool:
    """Whether a plain message clearly describes a device to quote.

    A known brand or model plus at least one of storage, condition or a function
    word, on some line; never a message with a link (that is a listing).
    """
    if has_link(text):
        return False
    catalogue = catalogue or load_catalogue()
    for line in split_descriptions(text):
        parsed = parse_description(line, catalogue)
        if not (parsed.brand or parsed.model or "brand" in parsed.ambiguous):
            continue
        details = (
            parsed.storage,
            parsed.condition,
            parsed.function_status,
            parsed.battery_health,
            parsed.ambiguous.get("storage"),
            parsed.ambiguous.get("condition"),
        )
        if any(d is not None for d in details):
            return True
    return False


def split_descriptions(text: str) -> list[str]:
    """One description per non-empty line, list markers (`1.`, `-`) removed.

    Consecutive `key：value` lines (品牌：Apple / 型号：iPhone 15 / 成色：95新, as listing
    pages show a device's attributes) are one description.
    """
    descriptions: list[str] = []
    joining = False
    for raw in text.splitlines():
        line = _BULLET.sub("", raw).strip()
        if not line:
            joining = False
            continue
        key_value = _KEY_VALUE.match(line) is not None
        if key_value and joining:
            descriptions[-1] += " " + line
        else:
            descriptions.append(line)
        joining = key_value
    return descriptions


__all__ = [
    "ASK_ORDER",
    "BATTERY_WORN_BELOW",
    "RAM_CHOICES",
    "STORAGE_CHOICES",
    "Brand",
    "Catalogue",
    "Model",
    "ParsedDevice",
    "Series",
    "load_catalogue",
    "looks_like_device",
    "parse_description",
    "split_descriptions",
]
