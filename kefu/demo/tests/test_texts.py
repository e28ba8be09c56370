"""The demo's word lists: every category leaf has something to say at either kind of site."""

from __future__ import annotations

import string

import pytest

from kefu.demo import texts
from kefu.demo.plans import LEAF_WEIGHTS
from kefu.demo.reference import CATEGORY_TREE

PLACEHOLDERS = {"when", "please", "home", "unit", "bld", "area", "floor", "time", "item", "plate", "staff"}
LEAVES = [child for root in CATEGORY_TREE for child in root.children]


@pytest.mark.parametrize("leaf", LEAVES, ids=[leaf.name for leaf in LEAVES])
def test_every_leaf_has_texts_for_both_kinds_of_site(leaf):
    said = texts.TEXTS[leaf.name]
    assert leaf.name in LEAF_WEIGHTS
    for site_kind in ("residential", "office"):
        templates = said.templates(site_kind)
        assert templates, site_kind
        for template in templates:
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            assert names <= PLACEHOLDERS, template
    if "inquiry" in leaf.kinds:
        assert said.answers or said.results
    if "repair" in leaf.kinds:
        assert said.results


def test_notes_fill_in():
    for template in (*texts.NOTES_INTERNAL, *texts.NOTES_PUBLIC):
        assert "{" not in template.format(time="下午2点")
