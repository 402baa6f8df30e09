"""The shipped device library: every YAML validates, every number has a source, and the
library's bad-input errors name what is wrong."""

from __future__ import annotations

import pytest

from hwsim.config.devices import undocumented_fields
from hwsim.devices.library import REPO_DEVICES, load_device_spec, raw_spec
from hwsim.errors import ConfigError

SHIPPED = sorted(p.stem for p in REPO_DEVICES.glob("*/*.yaml"))


def test_the_issue_s_device_list_is_shipped():
    required = {"xeon-8380", "epyc-9654", "v100-sxm2", "a100-sxm-40gb", "a100-sxm-80gb", "h100-sxm", "h200-sxm",
                "tpu-v3", "tpu-v4", "tpu-v5e", "eie", "cambricon-x", "loihi2", "truenorth", "cpu-generic"}
    assert required <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_yaml_validates_and_cites_every_number(name):
    spec = load_device_spec(name)
    raw, path, _ = raw_spec(name)
    assert path.parent.name == spec.kind  # devices/<kind>/<name>.yaml
    assert undocumented_fields(raw, raw.get("sources", {})) == []


def test_unknown_device_suggests_the_closest_names():
    with pytest.raises(ConfigError, match="did you mean 'h100-sxm'"):
        load_device_spec("h100-sxn")
