"""The registry file's models: chains of every family, assets, venues, bridges.

One typed, versioned file (``CROSSLANE_REGISTRY``, YAML) describes the world Crosslane
acts in. Its pieces are the product's own models where they exist (``DexDeployment``,
``WormholeEndpoints``/``AcrossEndpoints``, the Solana cluster's fields);
:meth:`ChainRegistry.from_registry` is the runtime view activities and the CLI read, and the
fast path builds its venues from ``venues``. Credentials are referenced (an env var, a
secrets file), never held.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crosslane.domain.bridge_endpoints import BridgeEndpoints
from crosslane.domain.chains import ChainConfig, DexDeployment, EvmFeeModel, TokenInfo
from crosslane.domain.evm import Address
from crosslane.domain.solana import Commitment, SolanaCluster, SolanaMint

REGISTRY_VERSION = 1
SPL_TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"

BridgeName = Literal["wormhole", "across", "op_canonical"]
BRIDGE_NAMES: tuple[BridgeName, ...] = ("wormhole", "across", "op_canonical")


class _Section(BaseModel):
    """Unknown fields are refused (a typo is an error, not a silent default); errors never
    echo the input."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class EvmChain(_Section):
    family: Literal["evm"]
    chain_id: int = Field(gt=0, description="EIP-155 chain id")
    rpc_urls: list[str] = Field(min_length=1, description="in order: first is primary")
    confirmations: int = Field(default=1, ge=1, description="blocks before a transaction counts as final")
    fee_model: EvmFeeModel = Field(default="eip1559", description="op-stack/arbitrum: an L1 data fee on top")
    native_symbol: str = "ETH"
    native_decimals: int = Field(default=18, ge=0, le=36)
    contracts: dict[str, Address] = Field(default_factory=dict, description="name -> checksummed address")
    dexes: dict[str, DexDeployment] = Field(default_factory=dict, description="AMM deployments by name")
    private_relay_url: str | None = Field(default=None, description="private relay for protected transactions")
    settles_on: str | None = Field(default=None, description="a rollup: the L1 chain it settles on (by name)")

    def chain_config(self, name: str, tokens: dict[str, TokenInfo]) -> ChainConfig:
        return ChainConfig(
            name=name,
            chain_id=self.chain_id,
            rpc_urls=self.rpc_urls,
            confirmations=self.confirmations,
            contracts=self.contracts,
            tokens=tokens,
            dexes=self.dexes,
            private_relay_url=self.private_relay_url,
            fee_model=self.fee_model,
            settles_on=self.settles_on,
        )


class SolanaChain(_Section):
    family: Literal["solana"]
    cluster: str = Field(description="mainnet-beta, devnet, testnet or localnet")
    rpc_urls: list[str] = Field(min_length=1, description="in order: first is primary")
    commitment: Commitment = "confirmed"
    fee_model: Literal["solana-priority"] = "solana-priority"
    blockhash_validity: int = Field(default=150, ge=1, description="blocks a blockhash stays valid")
    programs: dict[str, str] = Field(default_factory=dict, description="name -> program id (base58)")

    def cluster_config(self, name: str, mints: dict[str, SolanaMint]) -> SolanaCluster:
        return SolanaCluster(
            name=name,
            rpc_url=self.rpc_urls[0],
            mints=mints,
            blockhash_validity=self.blockhash_validity,
            default_commitment=self.commitment,
        )


Chain = Annotated[EvmChain | SolanaChain, Field(discriminator="family")]


class AssetOnChain(_Section):
    address: str = Field(description="EVM: checksummed token address; Solana: the mint (base58)")
    decimals: int = Field(ge=0, le=36)
    symbol: str | None = Field(default=None, description="the token's own symbol there, if not the asset's")
    token_program: str | None = Field(default=None, description=f"Solana only; default {SPL_TOKEN_PROGRAM}")

    def token_info(self, asset: str) -> TokenInfo:
        return TokenInfo(symbol=self.symbol or asset, address=self.address, decimals=self.decimals)

    def solana_mint(self, asset: str) -> SolanaMint:
        return SolanaMint(
            symbol=self.symbol or asset,
            mint=self.address,
            decimals=self.decimals,
            token_program=self.token_program or SPL_TOKEN_PROGRAM,
        )


class Asset(_Section):
    """One canonical asset: its token on every chain and its symbol on every venue."""

    decimals: int | None = Field(default=None, ge=0, le=36, description="when set, every chain's must match")
    chains: dict[str, AssetOnChain] = Field(default_factory=dict, description="chain name -> token")
    venues: dict[str, str] = Field(default_factory=dict, description="venue name -> currency code there")


class CredentialRef(_Section):
    """Where a venue's API keys are: never the keys themselves."""

    env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="env var naming the secrets file")
    secrets_file: str | None = Field(default=None, description="path of a JSON secrets file (mode 600)")
    accounts: list[str] = Field(default_factory=list, description="account names in that file")

    @model_validator(mode="after")
    def _one_place(self) -> CredentialRef:
        if (self.env is None) == (self.secrets_file is None):
            raise ValueError("give exactly one of env or secrets_file")
        return self


class ExchangeVenue(_Section):
    """A centralized exchange as ccxt reaches it (the fields of the CEX connector's VenueConfig)."""

    exchange: str = Field(description="ccxt exchange id, e.g. binance, okx")
    rest_url: str | None = Field(default=None, description="replaces the origin of every REST URL")
    ws_url: str | None = Field(default=None, description="replaces the origin of every websocket URL")
    maker_bps: Decimal | None = Field(default=None, ge=0, description="the account's fee tier, basis points")
    taker_bps: Decimal | None = Field(default=None, ge=0)
    credentials: CredentialRef | None = None
    rate_limit: bool = Field(default=True, description="ccxt's client-side throttle; off for a simulator")
    symbols: list[str] = Field(
        default_factory=list, description="markets (ccxt symbols, e.g. BTC/USDT) whose books the fast path keeps"
    )


class RouteCoverage(_Section):
    bridge: BridgeName
    chains: list[str] = Field(min_length=2, description="chains the route connects")
    assets: list[str] = Field(min_length=1, description="assets it carries (each on every chain listed)")


class Bridges(BridgeEndpoints):
    """Each bridge's endpoints (the product's models) and the routes it serves."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    routes: list[RouteCoverage] = Field(default_factory=list)

    def endpoints(self) -> BridgeEndpoints:
        return BridgeEndpoints(wormhole=self.wormhole, across=self.across, op_canonical=self.op_canonical)


class Registry(_Section):
    version: Literal[1] = Field(description="the registry format's version")
    chains: dict[str, Chain] = Field(default_factory=dict, description="by name; family evm or solana")
    assets: dict[str, Asset] = Field(default_factory=dict, description="by canonical symbol")
    venues: dict[str, ExchangeVenue] = Field(default_factory=dict, description="centralized exchanges by name")
    bridges: Bridges = Field(default_factory=Bridges)

    def venue_symbol(self, asset: str, quote: str, venue: str) -> str | None:
        """The market ``asset``/``quote`` as ``venue`` lists it ("ETH/USDC" for WETH/USDC on
        an exchange that trades ether as ETH); None when the venue lists either under no code."""
        codes = [self.assets[a].venues.get(venue) if a in self.assets else None for a in (asset, quote)]
        return None if None in codes else f"{codes[0]}/{codes[1]}"

    def canonical_asset(
        self, *, chain: str | None = None, address: str | None = None, venue: str | None = None, code: str | None = None
    ) -> str | None:
        """The canonical asset a chain's token (``chain`` + ``address``, case-insensitive) or a
        venue's currency (``venue`` + ``code``) is; None when the map has no such entry."""
        for symbol, asset in self.assets.items():
            if chain is not None and address is not None:
                token = asset.chains.get(chain)
                if token is not None and token.address.lower() == address.lower():
                    return symbol
            elif venue is not None and code is not None and asset.venues.get(venue) == code:
                return symbol
        return None

    def tokens_on(self, chain: str) -> dict[str, AssetOnChain]:
        """Every asset's token on ``chain``, by canonical symbol."""
        return {symbol: a.chains[chain] for symbol, a in self.assets.items() if chain in a.chains}
