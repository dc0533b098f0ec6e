"""CEX connector: one adapter over ccxt (REST) and ccxt.pro (websocket books), per venue."""
