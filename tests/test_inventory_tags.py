"""taxonomy.inventory_tags: one reading of a collected resource's tags (attribution, the action plan's owners and
the endpoint inventory each read the API's tag list their own way before)."""

from __future__ import annotations

from aifinops.taxonomy import inventory_tags


def test_tag_list_as_sagemaker_returns_it():
    attrs = {"Tags": [{"Key": "team", "Value": "genai"}, {"Key": "Owner", "Value": "alice"}]}
    assert inventory_tags(attrs) == {"team": "genai", "Owner": "alice"}


def test_s3_tag_set_and_a_mapping():
    assert inventory_tags({"TagSet": [{"Key": "ml-data", "Value": "true"}]}) == {"ml-data": "true"}
    assert inventory_tags({"Tags": {"team": "search", "n": 3}}) == {"team": "search", "n": "3"}


def test_damaged_entries_and_no_tags():
    attrs = {"Tags": [{"Value": "no key"}, "not a tag", {"Key": "cost-center"}, {"Key": "env", "Value": None}]}
    assert inventory_tags(attrs) == {"cost-center": "", "env": ""}
    assert inventory_tags({}) == {} and inventory_tags(None) == {} and inventory_tags("text") == {}
    assert inventory_tags({"Tags": "team=x"}) == {}
