"""The seed system's way of serving the model, kept only as the benchmark's peer.

What Breastscan replaced: FastAPI, TensorFlow/Keras loaded in the process, Pillow resize,
`model.predict` on each request inside the async handler (so one request at a time holds the
event loop). The network has the seed's shape: three convolutional blocks (two 3x3
convolutions each, 32/64/128 filters, max-pooling), Dropout, global average pooling, a sigmoid
unit: about 0.3 M parameters and 1.2 GFLOP per 128 x 128 image. The weights are random (a
fixed seed): speed does not depend on them. It stores nothing, checks no token, and returns
no heatmap or lesion outline, so the peer does less work per request than Breastscan does.

Started by benchmarks/bench.py in the venv that has the `ml` extra (TensorFlow):

    python benchmarks/seed_style.py --port 8123
"""

from __future__ import annotations

import argparse
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import uvicorn
from fastapi import FastAPI, File, UploadFile
from PIL import Image

SIZE = 128


def seed_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = inputs
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
        x = keras.layers.Dropout(0.25)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def create_app() -> FastAPI:
    app = FastAPI()
    model = seed_model()
    model.predict(np.zeros((1, SIZE, SIZE, 3), np.float32), verbose=0)  # build the graph once

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict")
    async def predict(file: UploadFile = File(...)) -> dict[str, object]:
        data = await file.read()
        image = Image.open(io.BytesIO(data)).convert("RGB").resize((SIZE, SIZE))
        batch = np.asarray(image, dtype=np.float32)[np.newaxis] / 255.0
        probability = float(model.predict(batch, verbose=0)[0, 0])
        label = "Positive" if probability >= 0.5 else "Negative"
        return {"filename": file.filename, "probability": probability, "label": label}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
