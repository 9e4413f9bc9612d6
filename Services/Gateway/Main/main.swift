import Gateway
import ServiceKit

await ServiceMain.run(GatewayService.self)
