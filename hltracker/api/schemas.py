"""Response models: they document every response in the OpenAPI spec (`/docs`).

Routes build their JSON directly (orjson, cached per snapshot) rather than through these models, so
the models cost nothing per request; the schemathesis test checks that real responses match them.
Key order follows the seed examples.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Num = float  # JSON number
OptNum = float | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Criteria(_Model):
    minSize: OptNum = None
    maxSize: OptNum = None
    minPnl: OptNum = None
    maxPnl: OptNum = None


class Segment(_Model):
    id: int
    name: str
    category: Literal["size", "pnl"]
    emoji: str
    criteria: Criteria


class PositionProfile(_Model):
    address: str
    segments: list[int] = Field(description="[size cohort id, PnL cohort id]")


class Position(_Model):
    address: str
    size: Num
    entryPrice: Num
    side: Literal["long", "short"]
    crossLeverage: int
    maxLeverage: int
    coin: str
    szDecimals: int
    markPrice: Num
    midPrice: OptNum
    premiumPrice: OptNum
    assetMaxLeverage: int
    positionValue: Num
    liquidationPrice: OptNum
    unrealizedPnl: Num
    funding: Num
    openTime: str
    closeTime: str | None = Field(description="null while the position is still open")
    updatedAt: str
    createdAt: str
    isolatedLeverage: int
    id: str
    dex: str
    profile: PositionProfile


class PositionsPage(_Model):
    positions: list[Position]
    nextCursor: str | None


class CoinOpenInterest(_Model):
    coin: str
    totalValue: Num
    totalValueLong: Num
    totalValueShort: Num
    count: int
    countLong: int
    countShort: int


class _SideFigures(_Model):
    """Open value and position counts split by side (heatmap rows and cells, top assets)."""

    totalValue: Num
    totalLongValue: Num
    totalShortValue: Num
    count: int
    countLong: int
    countShort: int


class HeatmapCell(_SideFigures):
    segmentId: int
    coin: str
    bias: Num = Field(description="long value / total value, 3 decimals")


class HeatmapCoin(_SideFigures):
    coin: str
    segments: list[HeatmapCell] = Field(description="one cell per cohort holding positions in the coin, by id")


class Heatmap(_Model):
    heatmap: list[HeatmapCoin]


class GeneralMetrics(_Model):
    id: int
    createdAt: str
    count: int
    countLong: int
    countShort: int
    openInterest: Num
    openInterestLong: Num
    openInterestShort: Num
    perpEquity: Num
    countInProfit: int


class GeneralMetricsPage(_Model):
    metrics: list[GeneralMetrics]
    nextCursor: str | None


class CoinMetrics(_Model):
    id: int
    createdAt: str
    coin: str
    positionCount: int
    positionCountLong: int
    totalPositionValue: Num
    totalPositionValueLong: Num
    totalFunding: Num
    totalUnrealizedPnl: Num
    totalPositionSize: Num
    totalPositionSizeLong: Num


class CoinMetricsPage(_Model):
    metrics: list[CoinMetrics]
    nextCursor: str | None


class _GroupMetrics(_Model):
    createdAt: str
    coin: str
    positionCount: int
    positionCountLong: int
    totalPositionValue: Num
    totalPositionValueLong: Num
    totalPositionSize: Num
    totalPositionSizeLong: Num
    totalFunding: Num
    totalUnrealizedPnl: Num


class CoinSegmentMetrics(_GroupMetrics):
    segmentId: int


class CoinBucketMetrics(_GroupMetrics):
    sizeBucketId: int


class CoinSegmentMetricsPage(_Model):
    metrics: list[CoinSegmentMetrics]
    nextCursor: str | None


class CoinBucketMetricsPage(_Model):
    metrics: list[CoinBucketMetrics]
    nextCursor: str | None


class PerpVolume(_Model):
    id: int
    createdAt: str
    volume: Num


class PerpVolumePage(_Model):
    metrics: list[PerpVolume]
    nextCursor: str | None


class SideFigures(_Model):
    count: int
    value: Num


class BySide(_Model):
    long: SideFigures
    short: SideFigures


class OpenPerpsSummary(_Model):
    perpBias: OptNum
    exposureRatio: OptNum
    countOpenPositions: int
    countTradersInPosition: int
    countTradersInProfit: int
    totalValue: Num
    totalLongValue: Num
    totalActivePerpEquity: Num
    bySide: BySide
    totalPerpEquity: Num
    countAssets: int


class CohortSummary(_Model):
    countTraders: int
    countTradersInPosition: int
    perpBias: OptNum
    positionValue: Num
    positionLongValue: Num
    positionShortValue: Num
    exposureRatio: OptNum
    activePerpEquity: Num
    perpEquity: Num


class TopAsset(_SideFigures):
    coin: str
    bias: OptNum


class SegmentSummary(_Model):
    segment: Segment
    positionAge: Literal["24h", "7d", "30d", "all"]
    createdAt: str
    openPerpsSummary: OpenPerpsSummary
    summary: CohortSummary
    countTraders24HoursAgo: int
    topAssets: list[TopAsset] = Field(description="the cohort's 10 largest coins by open value")


class BiasHistory(_Model):
    segment: Segment
    nextCursor: str | None = Field(None, description="only when start is given")
    positionRecencyTimeframe: Literal["24h", "7d", "30d", "all"]
    start: str
    end: str
    pageStart: str | None = Field(None, description="only when start is given")
    pageEnd: str | None = Field(None, description="only when start is given")
    historySnapshotStructure: list[str]
    history: list[list[str | float | None]] = Field(
        description="rows of [timestamp, bias, exposureRatio, openValue, openLongValue, openShortValue, "
                    "activePerpEquity], newest first")


class LiquidationRisk(_Model):
    coin: str
    totalValue: Num
    riskValue: Num
    percentRisk: OptNum


class LiquidationRiskPage(_Model):
    totalCount: int
    items: list[LiquidationRisk]


class Health(_Model):
    status: Literal["ok", "stale", "empty"]
    lastSnapshotAt: str | None
    lastLandedAt: str | None
    lagSeconds: OptNum
    snapshotId: int | None


class StateStatus(_Model):
    lastUpdate: str
    nextUpdate: str | None
    nextUpdateThreshold: str | None
    lastLandedAt: str
    snapshotId: int
    intervalSeconds: OptNum


class NestError(_Model):
    statusCode: int
    message: str
    error: str


class RateLimited(_Model):
    error: Literal["rate_limit_exceeded"]
    message: str
    retry_after: int


# --- fills and closed trades (routes/fills.py, routes/closed_trades.py) ---


class Fill(_Model):
    address: str
    coin: str
    dex: str
    fillType: Literal["trade", "liquidation"] = Field(description="liquidation: either side of a liquidation")
    px: Num
    sz: Num
    side: Literal["B", "A"]
    dir: str
    time: str
    startPosition: Num
    closedPnl: Num
    fee: OptNum
    crossed: bool
    tid: int | None
    hash: str = Field(description="0x + sha256 of coin|tid: the two sides of a trade share it")
    liquidatedUser: str | None
    liquidationMarkPx: OptNum
    liquidationMethod: str | None
    tradeHash: str | None = Field(description="the closed-trade hash this fill belongs to; null when not rebuilt")
    flipTradeHash: str | None = Field(description="for a flip: the trade it opens")


class FillsPage(_Model):
    fills: list[Fill]
    nextCursor: str | None


class ClosedTrade(_Model):
    hash: str
    address: str
    coin: str
    dex: str
    direction: Literal["long", "short"]
    openTime: str
    closeTime: str
    durationMs: int
    size: Num = Field(description="total size opened (= total size closed)")
    maxSize: Num
    avgEntryPrice: Num
    avgExitPrice: Num
    closedPnl: Num = Field(description="realized PnL: summed closedPnl of the fills, fees excluded")
    fees: Num
    funding: OptNum = Field(description="funding since open as last seen at a snapshot (positive = paid)")
    netPnl: Num = Field(description="closedPnl - fees - funding")
    volume: Num
    fillCount: int
    liquidated: bool


class ClosedTradesPage(_Model):
    trades: list[ClosedTrade]
    nextCursor: str | None


class CoinTradeSummary(_Model):
    coin: str
    totalTrades: int
    winningTrades: int
    losingTrades: int
    winRate: OptNum
    netPnl: Num
    volume: Num
    volumeSharePct: OptNum


class ClosedTradesSummary(_Model):
    address: str
    interval: Literal["all", "365d", "180d", "90d", "30d", "last50"]
    startTime: str | None
    endTime: str
    totalTrades: int
    winningTrades: int
    losingTrades: int
    liquidatedTrades: int
    winRate: OptNum
    netPnl: Num
    totalWinningPnl: Num
    totalLosingPnl: Num
    profitFactor: OptNum
    avgGain: OptNum
    avgLoss: OptNum
    payoffRatio: OptNum
    expectancy: OptNum
    expectancyPct: OptNum
    avgTradeSize: OptNum
    totalVolume: Num
    totalFees: Num
    totalFunding: Num
    avgDurationMs: OptNum
    coins: list[CoinTradeSummary]
# --- wallets and leaderboards (routes/wallets.py, routes/leaderboards.py) ---

class ClosestLiq(_Model):
    coin: str
    progress: Num = Field(description="the highest liquidationProgress among the wallet's open positions")


class Wallet(_Model):
    address: str
    segments: list[int] = Field(description="[size cohort id, PnL cohort id]")
    totalEquity: OptNum
    perpEquity: OptNum
    spotEquity: OptNum
    stakingEquity: OptNum
    vaultEquity: OptNum
    balance: OptNum
    perpPnl: OptNum = Field(description="all-time perp PnL")
    perpVolume30d: OptNum
    perpBias: OptNum = Field(description="(long value - short value) / perp equity; null when perp equity <= 0")
    exposureRatio: OptNum = Field(description="open value / perp equity; null when perp equity <= 0")
    openValue: OptNum
    openLongValue: OptNum
    openShortValue: OptNum
    sumUpnl: OptNum
    countOpenPositions: int
    closestLiq: ClosestLiq | None
    earliestActivityAt: str | None = Field(description="the first snapshot this store saw the wallet in")


class WalletsPage(_Model):
    totalCount: int
    items: list[Wallet]


class PerpPnlEntry(_Model):
    address: str
    rank: int
    previousRank: int | None = Field(description="the rank by the same rankBy at the previous snapshot")
    perpEquity: OptNum
    openValue: OptNum
    openValueLong: OptNum
    exposureRatio: OptNum
    bias: OptNum = Field(description="(long - short) / perp equity: unbounded, not a cohort bias")
    pnlDay: OptNum
    pnlWeek: OptNum
    pnlMonth: OptNum
    pnlAllTime: OptNum
    volumeMonth: OptNum = Field(description="the source's 30-day perp volume")
    firstSeenAt: str = Field(description="the first snapshot this store saw the wallet in")


class PerpPnlLeaderboard(_Model):
    totalCount: int
    data: list[PerpPnlEntry]


class BiggestPositionProfile(_Model):
    totalEquity: OptNum
    perpEquity: OptNum
    pnl: OptNum
    segments: list[int]
    walletLeverage: OptNum = Field(description="the wallet's open value / perp equity")


class BiggestPosition(_Model):
    id: str
    side: Literal["long", "short"]
    address: str
    dex: str
    coin: str
    value: Num = Field(description="signed: negative for a short, as HyperTracker's example")
    size: Num
    entryPrice: Num
    markPrice: Num
    unrealizedPnl: Num
    funding: Num
    liquidationPrice: OptNum
    liquidationProgress: OptNum
    crossLeverage: int
    isolatedLeverage: int
    openTime: str
    closeTime: None
    profile: BiggestPositionProfile


class BiggestPositions(_Model):
    totalCount: int
    data: list[BiggestPosition]


# --- market summaries (routes/summary.py) ---

class SummarySegment(_Model):
    segmentId: int
    countTraders: int
    countTradersInPosition: int
    countTradersInProfit: int
    perpBias: OptNum
    exposureRatio: OptNum
    openValue: Num
    openLongValue: Num
    openShortValue: Num
    activePerpEquity: Num
    perpEquity: Num
    countOpenPositions: int


class PerpPositionsMetrics(_Model):
    count: int
    openInterest: Num


class StateSummary(_Model):
    createdAt: str
    countTraders: int = Field(description="wallets in the snapshot")
    countActiveTraders: int = Field(description="wallets with an open position or 30-day perp volume")
    countTraders24HoursAgo: int
    segments: list[SummarySegment]
    segments24h: list[SummarySegment]
    segments7d: list[SummarySegment]
    segments30d: list[SummarySegment]
    perpPositionsMetrics: PerpPositionsMetrics
    perpVolume: OptNum


class CohortCoinMetrics(_Model):
    timestamp: str
    positionCount: int
    positionCountLong: int
    totalPositionValue: Num
    totalPositionValueLong: Num
    bias: OptNum = Field(description="long value / total value, 3 decimals; null when empty")


class CohortCoinSeries(_Model):
    segment: Segment
    metrics: list[CohortCoinMetrics]


class PerpsCoinSegmentMetrics(_Model):
    coin: str
    positionRecencyTimeframe: Literal["24h", "7d", "30d", "all"]
    segments: list[CohortCoinSeries]


class CohortBias(_Model):
    segment: Segment
    history: list[list[str | float | None]]


class SegmentsBias(_Model):
    start: str
    end: str
    historySnapshotStructure: list[str]
    segments: list[CohortBias]


class DownloadLink(_Model):
    downloadUrl: str = Field(description="a signed URL on this server, valid HLTRACKER_DOWNLOAD_TTL seconds")


class Funding(_Model):
    address: str
    coin: str
    dex: str
    time: str
    usdc: Num = Field(description="the payment in USDC, as Hyperliquid's userFunding gives it: negative = the "
                      "wallet paid")
    szi: Num = Field(description="the position's signed size when the funding was paid")
    fundingRate: OptNum = Field(description="the hourly funding rate applied; null when the source lacks it")


class FundingsPage(_Model):
    fundings: list[Funding]
    nextCursor: str | None
