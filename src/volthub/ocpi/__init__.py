"""OCPI 2.2.1: the roaming edge (both CPO and eMSP roles); only this package knows OCPI fields."""
