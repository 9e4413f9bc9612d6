import Messaging
import ServiceKit

await ServiceMain.run(MessagingService.self)
