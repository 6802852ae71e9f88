"""The registry of public learning-to-rank and IR data sets: one TOML file per set, read by :mod:`ltr.registry`.

Installed as the package ``ltr._registry_data`` (setup.cfg maps this folder there); nothing here is code.
"""
