"""The evaluation harness: seeded whole accounts with known waste, scanned by ``aifinops scan --cur … --aws``.

``generate`` builds an account (CUR 2.0 Parquet export, moto-server state, CloudWatch metrics, Bedrock model
invocation logs in S3) and the truth it was built to contain; ``score`` compares a scan document with that truth;
``run`` starts a moto server, does both for many seeds and aggregates. Nothing here imports ``aifinops.demo``:
the accounts are built from this package's own parameters and the public prices in ``facts``.
"""
