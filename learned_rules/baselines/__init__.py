"""Non-plastic baselines meta-trained by the same outer loop (memory only in activations)."""

from learned_rules.baselines.lstm import LSTMModel, lstm_size_for_params, lstm_size_for_state

__all__ = ["LSTMModel", "lstm_size_for_params", "lstm_size_for_state"]
