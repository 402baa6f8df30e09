"""Scenario studies: load a YAML study, expand its sweep, run it, write results and a report."""

from hwsim.scenario.load import load_scenario
from hwsim.scenario.runner import ScenarioResult, run_scenario

__all__ = ["ScenarioResult", "load_scenario", "run_scenario"]
