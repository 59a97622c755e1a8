"""Try the Spark summaries job against a running Steward (`make demo`), on local Spark.

Makes a day of synthetic predictions for one deployment from its own layouts (numbers drawn
within the reference's range, categories from its vocabulary), writes them to Parquet, runs
`steward_client.spark.run` on the file and posts the hours; the deployment's dashboard then
shows them as if the events had been sent.

    STEWARD_URL=http://127.0.0.1:8000 STEWARD_TOKEN=... \\
        python clients/python/examples/spark_demo.py --deployment 1 [--rows 20000]

Needs the `spark` extra (pyspark, pyarrow) and Java 17.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from steward_client import Steward
from steward_client.spark import PREDICTION_FEATURE, parse_layouts, run
from steward_client.summaries import NumericLayout


def synthetic(layouts: dict[str, Any], rows: int, hours: int, seed: int = 0) -> pd.DataFrame:
    """`rows` predictions over the last `hours` whole UTC hours, values fitting the layouts."""
    rng = np.random.default_rng(seed)
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    seconds = rng.integers(0, hours * 3600, rows)
    data: dict[str, Any] = {
        "timestamp": pd.Timestamp(end - dt.timedelta(hours=hours))
        + pd.to_timedelta(seconds, unit="s"),
        "request_id": [f"spark-demo-{seed}-{i}" for i in range(rows)],
    }
    for name, layout in layouts.items():
        column = "prediction" if name == PREDICTION_FEATURE else name
        if isinstance(layout, NumericLayout):
            low, high = (layout.edges[0], layout.edges[-1]) if layout.edges else (0.0, 1.0)
            data[column] = rng.uniform(low, high, rows)
        else:
            data[column] = rng.choice(list(layout.categories) or ["none"], rows)
    return pd.DataFrame(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deployment", type=int, required=True)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--hours", type=int, default=24)
    args = parser.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[2]").appName("steward-spark-demo").getOrCreate()
    with Steward() as client, tempfile.TemporaryDirectory() as folder:
        version = client.get_deployment(args.deployment)["version"]
        layouts = parse_layouts(client.get(f"versions/{version}/layouts/"))
        path = str(Path(folder) / "predictions")
        spark.createDataFrame(synthetic(layouts, args.rows, args.hours)).write.parquet(path)
        result = run(spark, path, client=client, deployment=args.deployment)
    spark.stop()
    print(f"posted {len(result.hours.get(str(args.deployment), []))} hours, {result.rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
