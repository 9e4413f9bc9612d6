import AgentCore
import ServiceKit

await ServiceMain.run(AgentCoreService.self)
