"""The compact word list cuts exactly as jieba does with its own dictionary (decision 0011)."""

from __future__ import annotations

import random
from array import array

import pytest

from kefu.demo import texts
from kefu.demo.bench import words as bench_words
from kefu.tickets import search, wordlist


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory):
    jieba = search._import_jieba()
    original = jieba.Tokenizer()
    original.tmp_dir = str(tmp_path_factory.mktemp("jieba"))
    original.initialize()
    compact = wordlist.compact_tokenizer(jieba, wordlist.load(tmp_path_factory.mktemp("cache")))
    return original, compact


def _strings(values) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(_strings(value.values()))
        elif isinstance(value, list | tuple | set | frozenset):
            found.extend(_strings(value))
    return found


def corpus(original) -> list[str]:
    demo = _strings(vars(texts).values()) + _strings(vars(bench_words).values())
    rng = random.Random(11)
    # Random runs of dictionary words and characters glued together: ambiguous joints.
    vocabulary = [word for word, count in original.FREQ.items() if count and len(word) <= 4]
    rng.shuffle(vocabulary)
    glued = ["".join(rng.choice(vocabulary[:5000]) for _ in range(rng.randint(2, 12))) for _ in range(2000)]
    characters = "".join({char for word in vocabulary[:3000] for char in word})
    noise = ["".join(rng.choice(characters) for _ in range(rng.randint(1, 40))) for _ in range(1000)]
    mixed = ["3号楼2单元1502室水管漏水", "ABC公司WiFi断了", "电话13800138000联系张先生", "Ｆｏｏ漏水", ""]
    return demo + glued + noise + mixed


def test_the_compact_word_list_cuts_every_text_as_jieba_does(tokenizers):
    original, compact = tokenizers
    texts_ = corpus(original)
    assert len(texts_) > 3000
    differ = [t for t in texts_ if list(compact.cut(t, HMM=False)) != list(original.cut(t, HMM=False))]
    assert differ == []
    # …and so are the words the search reads off the dictionary (sub-words).
    for word in ("水龙头", "龙头", "物业管理处", "不存在的词语哈", "漏"):
        assert compact.FREQ.get(word) == (original.FREQ.get(word) or None)


def test_it_holds_every_word_jieba_counts_and_its_total(tokenizers):
    original, compact = tokenizers
    counted = {word: count for word, count in original.FREQ.items() if count}
    assert len(compact.FREQ) == len(counted)
    assert compact.total == original.total
    sample = random.Random(3).sample(sorted(counted), 2000)
    assert all(compact.FREQ.get(word) == counted[word] for word in sample)
    # jieba's dict also holds every prefix of a word, counted 0: those are not words.
    prefixes_only = [w for w, c in list(original.FREQ.items())[:50_000] if c == 0][:200]
    assert prefixes_only and not any(word in compact.FREQ for word in prefixes_only)


def test_the_files_are_built_once_and_read_by_later_processes(tmp_path):
    first = wordlist.load(tmp_path)
    built = sorted(p.name for p in tmp_path.iterdir())
    assert len(built) == 2 and built[0].endswith(".freq") and built[1].endswith(".trie")
    stamps = [p.stat().st_mtime_ns for p in sorted(tmp_path.iterdir())]
    again = wordlist.load(tmp_path)
    assert [p.stat().st_mtime_ns for p in sorted(tmp_path.iterdir())] == stamps
    assert len(again) == len(first) and again.get("漏水") == first.get("漏水")


def test_a_bad_dictionary_line_is_named_and_a_damaged_file_is_not_used(tmp_path):
    bad = tmp_path / "dict.txt"
    bad.write_text("漏水 12 v\n水管 x n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        wordlist.read(bad)
    words, freqs, total, longest = wordlist.read(wordlist.dictionary_path())
    with pytest.raises(ValueError, match="counts for"):
        wordlist.Wordlist(words, array("Q", freqs[:-1]), total, longest)
