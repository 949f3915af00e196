"""The data layer: the tables (``schema``), the store (``store``) and one repository module per
aggregate. It is the only part of the gateway that runs SQL (tests/gateway/test_data_layer.py)."""
