"""Demo data (演示数据): a realistic company to try Kefu with (``kefu demo``), and the
reference data every install needs (``reference.seed_reference_data``)."""
