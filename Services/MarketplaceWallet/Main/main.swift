import MarketplaceWallet
import ServiceKit

await ServiceMain.run(MarketplaceWalletService.self)
