import Vouchers
import ServiceKit

await ServiceMain.run(VouchersService.self)
