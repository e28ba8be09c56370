"""jieba's dictionary in 2 MB instead of 65 (docs/decisions/0011).

jieba keeps its 349,046 words and all their prefixes in a Python dict of 498,113 strings:
about 65 MB in every process that indexes or searches, more than a web process may take. Here
the same words and frequencies live in a MARISA trie and an array of counts, built once from
jieba's own ``dict.txt`` into the cache folder and then memory-mapped (so every process on the
machine shares the same pages, loaded in well under a millisecond).

``CompactTokenizer`` is jieba's ``Tokenizer`` with the two methods that read the dictionary
replaced: ``get_DAG`` asks the trie for every word that starts at each position (one call
instead of a loop over prefixes), ``calc`` reads the counts from the array. The words found
and the route chosen are the same as jieba's, step for step (``test_wordlist`` compares
them on the demo's texts and on random text), so documents indexed before and after cut
the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from math import log
from pathlib import Path
from typing import Any

import marisa_trie

# Bump when the files' layout changes: older files are then ignored and built again.
FORMAT = 2


def dictionary_path() -> Path:
    """jieba's default dictionary, inside the installed package (read, never imported)."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise RuntimeError("jieba is not installed")
    return Path(spec.origin).parent / "dict.txt"


def _stem(cache: str | os.PathLike[str], source: Path) -> Path:
    digest = hashlib.sha1(source.read_bytes()).hexdigest()[:16]
    return Path(cache) / f"jieba-words-{FORMAT}-{digest}"


def read(source: Path) -> tuple[marisa_trie.Trie, array[int], int, int]:
    """The words of ``source`` (jieba's dict.txt) with a count, as a trie; their counts by
    key id; the total count; the longest word."""
    counts: dict[str, int] = {}
    total = 0
    with source.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            parts = line.strip().split(" ")
            if not parts[0]:
                continue
            try:
                count = int(parts[1])
            except (IndexError, ValueError):
                raise ValueError(f"invalid dictionary entry in {source} at line {number}: {line!r}") from None
            counts[parts[0]] = count  # a word listed twice: the later line's count, as in jieba…
            total += count  # …but both lines in the total, as jieba sums them
    words = marisa_trie.Trie(word for word, count in counts.items() if count > 0)
    freqs = array("Q", bytes(8 * len(words)))
    for word, count in counts.items():
        if count > 0:
            freqs[words.key_id(word)] = count
    return words, freqs, total, max(map(len, words.keys()), default=1)


def build(cache: str | os.PathLike[str], source: Path | None = None) -> Path:
    """Write the trie and the counts of ``source`` into ``cache``; each file is written aside
    and renamed into place, so that a reader never sees half of one."""
    source = source or dictionary_path()
    stem = _stem(cache, source)
    words, freqs, total, longest = read(source)
    Path(cache).mkdir(parents=True, exist_ok=True)
    for suffix, write in ((".trie", words.save), (".freq", lambda path: _write_array(path, total, longest, freqs))):
        fd, scratch = tempfile.mkstemp(dir=cache, prefix=".jieba-words-")
        os.close(fd)
        try:
            write(scratch)
            os.replace(scratch, str(stem) + suffix)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(scratch)
    return stem


def _write_array(path: str, total: int, longest: int, freqs: array[int]) -> None:
    with open(path, "wb") as out:
        array("Q", [total, longest]).tofile(out)
        freqs.tofile(out)


class Wordlist:
    """The words (a trie), their counts by key id, the total count and the longest word."""

    def __init__(self, words: marisa_trie.Trie, counts: Sequence[int], total: int, longest: int) -> None:
        if len(counts) != len(words):
            raise ValueError(f"{len(counts)} counts for {len(words)} words")
        self.words, self.counts, self.total, self.longest = words, counts, total, longest

    @classmethod
    def open(cls, stem: Path) -> Wordlist:
        """The files ``build`` wrote; the trie memory-mapped."""
        words = marisa_trie.Trie()
        words.mmap(str(stem) + ".trie")
        raw = memoryview(Path(str(stem) + ".freq").read_bytes()).cast("Q")
        return cls(words, raw[2:], int(raw[0]), int(raw[1]))

    def get(self, word: str, default: int | None = None) -> int | None:
        """The count of ``word``, like jieba's ``FREQ.get`` for the words it counts."""
        key = self.words.get(word)
        return default if key is None else int(self.counts[key])

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.words

    def __len__(self) -> int:
        return len(self.words)


def load(cache: str | os.PathLike[str]) -> Wordlist:
    """The word list in ``cache``, built there first if missing. The build reads the whole
    dictionary into a dict (~65 MB), so it runs in a child process: the memory is the
    child's and goes with it. A cache that cannot be written means a word list in this
    process's memory (the same words), built here."""
    source = dictionary_path()
    stem = _stem(cache, source)
    if not Path(str(stem) + ".freq").exists():
        path = os.pathsep.join(filter(None, [_root(), os.environ.get("PYTHONPATH")]))
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [sys.executable, "-m", "kefu.tickets.wordlist", str(cache)],
                check=True,
                capture_output=True,
                timeout=300,
                env={**os.environ, "PYTHONPATH": path},
            )
    if all(Path(str(stem) + suffix).is_file() for suffix in (".trie", ".freq")):
        return Wordlist.open(stem)
    return Wordlist(*read(source))


def _root() -> str:
    return str(Path(__file__).resolve().parents[2])


def compact_tokenizer(jieba: Any, wordlist: Wordlist) -> Any:
    """A jieba ``Tokenizer`` reading ``wordlist`` instead of its own dictionary."""
    words, counts, longest = wordlist.words, wordlist.counts, wordlist.longest
    logtotal = log(wordlist.total)
    latin = jieba.re_eng

    class CompactTokenizer(jieba.Tokenizer):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.FREQ = wordlist  # what jieba's other modes read, and ``search`` for sub-words
            self.total = wordlist.total
            self.initialized = True  # never load dict.txt

        def get_DAG(self, sentence: str) -> dict[int, list[int]]:
            return {start: [end for end, _ in ends] for start, ends in enumerate(self._dag(sentence))}

        def _dag(self, sentence: str) -> list[list[tuple[int, int]]]:
            # Every word that starts at each position, as (last index, count): one trie call.
            return [
                [
                    (start + len(word) - 1, counts[key])
                    for word, key in words.iter_prefixes_with_ids(sentence[start : start + longest])
                ]
                or [(start, 0)]
                for start in range(len(sentence))
            ]

        def _Tokenizer__cut_DAG_NO_HMM(self, sentence: str) -> Iterator[str]:
            # jieba's ``cut(HMM=False)`` step by step (0.42.1), with the counts from the DAG
            # instead of a second look-up: the same floats in the same order, the same route.
            size = len(sentence)
            dag = self._dag(sentence)
            route: list[tuple[float, int]] = [(0, 0)] * (size + 1)
            for index in range(size - 1, -1, -1):
                route[index] = max((log(count or 1) - logtotal + route[end + 1][0], end) for end, count in dag[index])
            at, pending = 0, ""
            while at < size:
                after = route[at][1] + 1
                word = sentence[at:after]
                if len(word) == 1 and latin.match(word):
                    pending += word  # single Latin letters and digits run together
                else:
                    if pending:
                        yield pending
                        pending = ""
                    yield word
                at = after
            if pending:
                yield pending

    return CompactTokenizer()


if __name__ == "__main__":  # the child process of ``load``
    build(sys.argv[1])
