"""Executable experiments: synthesis (warping), losses, metrics, data, models, trainer.

Imports are lazy: ``import sins.experiments`` loads nothing heavy; import the submodules you use.
"""
