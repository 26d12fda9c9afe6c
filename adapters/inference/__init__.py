"""ONNX Runtime implementation of the TumorClassifier port."""
