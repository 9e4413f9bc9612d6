import ServiceKit
import Vouchers

await ServiceMain.run(VouchersService.self)
